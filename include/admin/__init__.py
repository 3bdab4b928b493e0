"""The admin layer: the connection lifecycle as small operations (`include.admin.operations`),
credits, the Airflow REST adapter, tokens and the sync status of a connection. No HTTP: domain
errors (`include.admin.errors`) carry no status codes; the API maps their types to codes.

May import the model, config, store and sync layers; never `include.api` (the import-linter
contract in pyproject.toml keeps it so)."""
