"""The sync layer: extract -> map -> load as plain functions; the generated DAG's tasks, the
`millwright sync` command and bench/ call these. Modules, by step:

- `window`: the window a run reads; `extract`: pages to ``pages.jsonl``;
- `mapper`: a page into typed rows (`include.store.LoadRow`) and quarantine items;
  `map_step`: the staged ``map`` step; `workers`: the map worker processes (`WorkerPool`);
- `load`: `BatchLoader` and the staged ``load`` step; `reconcile`; `statuses`;
- `streaming`: the three at once (the default ``sync`` task); `staging`: run directories;
  `run_status`: what a run's state and failure mean.

Each step is idempotent and passes a small summary (paths and counts) to the next, never the data:

- `extract` streams the window's pages from the connector into ``pages.jsonl`` (one page a line);
- `map_pages` maps and validates each page into ``mapped.jsonl`` and quarantines what fails;
- `load` upserts ``mapped.jsonl`` in bounded batches and advances the cursor with the last batch.

Hot-path choices (see docs/BENCHMARKS.md): extract fetches the next page in a background thread
while it writes the current one; ``mapped.jsonl`` holds each record's ``data`` and ``raw`` already
serialised, so load never decodes or re-encodes them; pages are validated with a validator that
builds no model instances; load prepares the next batch while a writer thread runs the current
one in the database.

Staging paths may be `pathlib.Path` or `airflow.sdk.ObjectStoragePath` (anything with ``/``,
``open``, ``mkdir``), so the same code stages to a local disk or to object storage. Each step holds
its run directory while it works in it, and creates it and its files private
(`include.sync.staging`). Map worker processes die with the process that started them
(`workers`) and never commit once it is gone.
"""
