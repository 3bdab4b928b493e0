"""MaintainX REST v1: the Python the manifest cannot say (see README.md, "Where Python is needed").

manifest.yaml describes the protocol: bearer auth (``api_key``), cursor paging (``cursor`` +
``limit`` <= 200 -> ``{"<key>": [...], "nextCursor": ...}``), ``updatedAt[gte]``/``[lte]`` windows
with ``sort=updatedAt`` (``lte`` is inclusive, so records at exactly the end are dropped here to make
the window half-open ``[start, end)``; the next window's ``gte`` reads them), ``expand`` parameters,
per-record detail reads (purchase orders), team members, rate-limit headers
(``X-Rate-Limit-Remaining``/``-Reset``: when Remaining reaches 0 the next call waits ``Reset``
seconds), the static status lists. This subclass adds only:

- ``extra_headers``: the ``organization_id`` option as ``x-organization-id`` (an integer);
- transforms that derive rows MaintainX has no list for: stocks (one per part and location, from a
  part's ``locations``), meter readings (each meter's ``lastReading``), and PO items stamped with
  their PO's id and vendor (items carry neither).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.kit import ManifestConnector, entity_specs, load_manifest
from connectors.maintainx import mapping as m

SYSTEM = "maintainx"
MANIFEST = load_manifest(Path(__file__).with_name("manifest.yaml"))
MAX_LIMIT = MANIFEST.paginator.max_size

Records = list[dict[str, Any]]


def format_ms(dt: datetime) -> str:
    """UTC ISO 8601 with milliseconds, truncated (records carry ms resolution)."""
    dt = dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _stock_rows(parts: Records) -> Records:
    rows = []
    for p in parts:
        for loc in p.get("locations") or ():
            rows.append({**loc, "partId": p["id"], "updatedAt": p.get("updatedAt")})
    return rows


def _reading_rows(meters: Records) -> Records:
    rows = []
    for meter in meters:
        r = meter.get("lastReading")
        if r:
            rows.append({**r, "assetId": (meter.get("asset") or {}).get("id")})
    return rows


class MaintainXConnector(ManifestConnector):
    """Reads MaintainX's REST API (v1). Credentials: ``{"api_key": ...}``; options:
    ``organization_id`` (for multi-organization keys)."""

    manifest = MANIFEST
    system = SYSTEM
    entities = entity_specs(MANIFEST, m.MAPPINGS, m.CHANGED_WHEN)

    def extra_headers(self) -> dict[str, str]:
        org = self.settings.options.get("organization_id")
        if org in (None, ""):
            return {}
        if not str(org).strip().isdigit():
            raise ValueError(f"maintainx: option organization_id must be an integer, got {org!r}")
        return {"x-organization-id": str(org).strip()}

    # --- transforms named in manifest.yaml -----------------------------------------------------
    def stock_rows(self, entity: str, parts: Records) -> Records:
        return _stock_rows(parts)

    def reading_rows(self, entity: str, meters: Records) -> Records:
        return _reading_rows(meters)

    def po_items(self, entity: str, orders: Records) -> Records:
        for po in orders:
            for item in po.get("items") or ():
                item["purchaseOrderId"] = po["id"]
                item["vendorId"] = po.get("vendorId")
        return orders
