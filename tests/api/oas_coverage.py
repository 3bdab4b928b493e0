"""Compare our OpenAPI document with Makini's (oas3_eam.json, oas3_erp.json): paths we serve and,
per resource, the record fields we carry versus theirs. Reads only; writes nothing.

``python -m tests.api.oas_coverage`` prints the coverage table used in docs/API.md.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
REFERENCE_ENV = "MILLWRIGHT_REFERENCE_DIR"


def reference_dir() -> Path:
    return Path(os.environ.get(REFERENCE_ENV) or REPO.parent / "shared" / "reference")


def load_makini(ns: str) -> dict[str, Any] | None:
    path = reference_dir() / "makini" / f"oas3_{ns}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def _props(doc: dict, schema: dict) -> dict:
    schema = _resolve(doc, schema)
    if "anyOf" in schema:  # Optional[...] in our document
        schema = next(_resolve(doc, s) for s in schema["anyOf"] if s.get("type") != "null")
    return schema.get("properties", {})


# Makini's EAM document gives these GETs a schema that cannot be what they return: the
# materials of work orders are declared as WorkOrder records (the tag and summary say "WorkOrder
# Materials"); we serve MaterialItem records there, like the other `/{key}/materials` routes
# (docs/API.md, "Where Makini's document is a placeholder").
RECORD_SCHEMA_OVERRIDES = {
    "/api/eam/work-orders/materials": "MaterialItem",
    "/api/eam/work-orders/{key}/materials": "MaterialItem",
}


def list_item_fields(doc: dict, path: str) -> set[str] | None:
    """Field names of the records a GET operation returns (``data`` items, or ``data``).

    For Makini's document: a GET whose response is a bare ``{"type": "object"}`` (the four
    ``/{key}/materials`` and ``/children`` routes) returns the records of its tag's schema
    (``MaterialItem``); `RECORD_SCHEMA_OVERRIDES` replaces an evidently wrong schema."""
    op = doc["paths"].get(path, {}).get("get")
    if op is None:
        return None
    schemas = doc.get("components", {}).get("schemas", {})
    override = RECORD_SCHEMA_OVERRIDES.get(path)
    if override and override in schemas and "MaterialItem" in schemas:
        return set(_props(doc, {"$ref": f"#/components/schemas/{override}"}))
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    data = _props(doc, schema).get("data")
    if data is None:
        tags = op.get("tags") or []
        if tags and tags[0] in schemas and not _props(doc, schema):
            return set(_props(doc, {"$ref": f"#/components/schemas/{tags[0]}"}))
        return None
    items = _resolve(doc, data).get("items", data)
    return set(_props(doc, items))


def record_schema(doc: dict, path: str) -> dict:
    """Our document: the (resolved) schema of the records a GET answers."""
    op = doc["paths"][path]["get"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    data = _props(doc, schema)["data"]
    return _resolve(doc, _resolve(doc, data).get("items", data))


def parameter_names(doc: dict, path: str) -> set[str]:
    op = doc["paths"].get(path, {}).get("get") or {}
    return {p.get("name") for p in op.get("parameters", [])}


def makini_gaps(ours: dict, ns: str) -> list[str]:
    """Everything Makini's document has for a GET that ours lacks (Makini -> project): a path,
    a parameter, a record field. Empty when every GET path, parameter and field is served."""
    theirs = load_makini(ns)
    if theirs is None:
        raise FileNotFoundError(f"oas3_{ns}.json not under {reference_dir()}")
    gaps = []
    for path, ops in sorted(theirs["paths"].items()):
        if "get" not in ops:
            continue
        if path not in ours["paths"] or "get" not in ours["paths"][path]:
            gaps.append(f"GET {path}: not served")
            continue
        for name in sorted(parameter_names(theirs, path) - parameter_names(ours, path)):
            gaps.append(f"GET {path}: parameter {name!r} missing")
        their_fields = list_item_fields(theirs, path) or set()
        our_fields = list_item_fields(ours, path) or set()
        for name in sorted(their_fields - our_fields):
            gaps.append(f"GET {path}: record field {name!r} missing")
    return gaps


def coverage(ours: dict, ns: str) -> list[dict]:
    """Per resource of ``ns`` we serve: Makini's path exists?, fields covered, missing, extra."""
    theirs = load_makini(ns)
    if theirs is None:
        raise FileNotFoundError(f"oas3_{ns}.json not under {reference_dir()}")
    rows = []
    for path in sorted(p for p in ours["paths"] if p.startswith(f"/api/{ns}/")):
        if path.endswith("{key}"):
            continue
        # remoteData (include_remote_data=true) is Makini's parameter, not a record field
        our_fields = (list_item_fields(ours, path) or set()) - {"remoteData"}
        their_fields = list_item_fields(theirs, path)
        rows.append(
            {
                "path": path,
                "in_makini": path in theirs["paths"],
                "detail": f"{path}/{{key}}" in ours["paths"],
                "covered": sorted(our_fields & (their_fields or set())),
                "missing": sorted((their_fields or set()) - our_fields),
                "extra": sorted(our_fields - (their_fields or set())),
            }
        )
    return rows


def table(ours: dict) -> str:
    lines = [
        "| resource | in Makini | /{key} | fields covered | missing (Makini has, we do not) | "
        "extra |",
        "|---|---|---|---|---|---|",
    ]
    for ns in ("eam", "erp"):
        for r in coverage(ours, ns):
            total = len(r["covered"]) + len(r["missing"])
            lines.append(
                f"| `{r['path']}` | {'yes' if r['in_makini'] else 'no'} | "
                f"{'yes' if r['detail'] else '-'} | {len(r['covered'])}/{total} | "
                f"{', '.join(r['missing']) or '-'} | {', '.join(r['extra']) or '-'} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    from fastapi import FastAPI

    from include.api.read import read_routers

    app = FastAPI()
    for router in read_routers():
        app.router.routes.extend(router.routes)
    print(table(app.openapi()))
