"""Our /openapi.json against Makini's oas3_eam.json and oas3_erp.json, both ways: every GET of
Makini's EAM document, each of its parameters and every record field it declares is served
(Makini -> project); every path we serve is one of theirs, and every record field we add beyond
theirs is a known, documented addition.

The reference files come from $MILLWRIGHT_REFERENCE_DIR (default <repo>/../shared/reference);
the test skips when they are absent and writes nothing."""

from __future__ import annotations

import copy

import pytest

from tests.api.conftest import make_client
from tests.api.oas_coverage import (
    coverage,
    list_item_fields,
    load_makini,
    makini_gaps,
    record_schema,
    reference_dir,
)

ENVELOPE = {"customFields", "createdAt", "updatedAt", "deletedAt"}
# Millwright's unified model carries these beyond Makini's schema (listed in docs/API.md).
STATUS = {"status", "statusCategory"}
KNOWN_EXTRAS = {
    "assets": {"organizationKey", "status", "statusCategory"},
    "meter-readings": {"readAt"},
    "meters": {"name"},
    "purchase-orders": STATUS,
    "purchase-orders.line-items": {"purchaseOrderKey", "accountKey"},
    "work-orders": {"statusCategory"},
    "service-requests": STATUS,
    "return-orders": STATUS,
    "statuses/work-orders": {"statusCategory"},
    "statuses/purchase-orders": {"statusCategory"},
    "statuses/service-requests": {"statusCategory"},
    "statuses/return-orders": {"statusCategory"},
    "statuses/production-orders": {"statusCategory"},
    "stocks": {"siteKey"},
    "teams": {"userKeys"},
    "users": {"email"},
    "production-orders": {
        "assetKey", "plannedEndAt", "plannedStartAt", "productKey", "quantity", "status",
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    if load_makini("eam") is None or load_makini("erp") is None:
        pytest.skip(f"Makini reference OpenAPI files not found under {reference_dir()}")
    from include.store import Store

    store = Store(f"sqlite:///{tmp_path_factory.mktemp('oas') / 'store.db'}")
    with make_client(store) as client:
        doc = client.get("/openapi.json").json()
    store.close()
    return doc


def _mtimes():
    root = reference_dir() / "makini"
    return {p: p.stat().st_mtime_ns for p in root.glob("*.json")}


@pytest.mark.parametrize("ns", ["eam", "erp"])
def test_paths_and_fields_match_makini(ours, ns):
    before = _mtimes()
    makini = load_makini(ns)
    ours_ns = {p for p in ours["paths"] if p.startswith(f"/api/{ns}/")}
    assert ours_ns, "no paths served"
    not_makini = sorted(p for p in ours_ns if p not in makini["paths"])
    assert not_makini == [], f"paths Makini does not have: {not_makini}"
    for p in ours_ns:
        assert "get" in makini["paths"][p]
    for row in coverage(ours, ns):
        resource = row["path"].removeprefix(f"/api/{ns}/")
        assert "key" in row["covered"] or resource == "work-orders/custom-fields", row["path"]
        unexpected = set(row["extra"]) - ENVELOPE - KNOWN_EXTRAS.get(resource, set())
        assert not unexpected, f"{row['path']}: fields not in Makini's schema: {unexpected}"
    assert _mtimes() == before  # read only


def test_security_scheme_and_list_parameters(ours):
    assert ours["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    op = ours["paths"]["/api/eam/work-orders"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert {"page", "per_page", "filter", "sort", "filterMatch", "cursor"} <= names
    assert op["security"] == [{"bearerAuth": []}]


def test_every_makini_eam_get_path_parameter_and_field_is_served(ours):
    """Makini -> project: the 65 GETs of oas3_eam.json, their parameters and record fields."""
    makini = load_makini("eam")
    gets = [p for p, ops in makini["paths"].items() if "get" in ops]
    assert len(gets) == 65
    assert makini_gaps(ours, "eam") == []
    # and they are declared required: present in every record (null when the source has none)
    for path in gets:
        fields = list_item_fields(makini, path) or set()
        if path.endswith("custom-fields"):
            continue
        required = set(record_schema(ours, path).get("required", []))
        assert fields <= required, (path, sorted(fields - required))


def test_the_comparison_fails_on_anything_missing(ours):
    """The check itself: a path, a parameter or a record field taken out of our document is
    reported by name."""
    doc = copy.deepcopy(ours)
    del doc["paths"]["/api/eam/inventories"]
    op = doc["paths"]["/api/eam/storerooms"]["get"]
    op["parameters"] = [p for p in op["parameters"] if p["name"] != "per_page"]
    ref = doc["paths"]["/api/eam/work-orders/{key}"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]["$ref"]
    item = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"]["data"]
    wo = doc["components"]["schemas"][item["$ref"].rsplit("/", 1)[-1]]
    del wo["properties"]["completionRemarks"]
    gaps = makini_gaps(doc, "eam")
    assert "GET /api/eam/inventories: not served" in gaps
    assert "GET /api/eam/storerooms: parameter 'per_page' missing" in gaps
    assert "GET /api/eam/work-orders/{key}: record field 'completionRemarks' missing" in gaps
