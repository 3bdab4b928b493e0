"""The sandbox's $metadata against SAP's real EDMX (and OpenAPI for API_MAINTENANCEPLAN)."""

from __future__ import annotations

import json
import logging

import pytest
import requests
from pyodata.v2.model import Config, MetadataBuilder, PolicyIgnore

from connectors.sap_s4hana.metadata import SERVICES
from connectors.sap_s4hana.metadata.build import EXTENSIONS
from connectors.sap_s4hana.metadata.released import RELEASED

logging.getLogger("pyodata").setLevel(logging.ERROR)
EDMX_FILES = [s for s in SERVICES if s != "API_MAINTENANCEPLAN" and s not in RELEASED]


def _schema(xml: bytes):
    return MetadataBuilder(xml, config=Config(default_error_policy=PolicyIgnore())).build()


def _describe(schema, entity_set: str) -> tuple:
    es = schema.entity_set(entity_set)
    et = es.entity_type
    props = {p.name: p.typ.name for p in et.proprties()}
    return es.entity_type_info.name, tuple(k.name for k in et.key_proprties), props


@pytest.mark.parametrize("service", EDMX_FILES)
def test_pyodata_parses_real_edmx(reference_sap, service):
    schema = _schema((reference_sap / f"{service}.edmx").read_bytes())
    assert len(list(schema.entity_sets)) >= len(SERVICES[service])


@pytest.mark.parametrize("service", EDMX_FILES)
def test_sandbox_metadata_matches_real_edmx(reference_sap, sandbox, service):
    url, _ = sandbox
    path = "API_MAINTENANCEORDER;v=0002" if service == "API_MAINTENANCEORDER" else service
    resp = requests.get(f"{url}/sap/opu/odata/sap/{path}/$metadata", auth=("demo", "demo"))
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/xml")
    served = _schema(resp.content)
    real = _schema((reference_sap / f"{service}.edmx").read_bytes())
    assert {es.name for es in served.entity_sets} == set(SERVICES[service])
    for name in SERVICES[service]:
        type_name, keys, props = _describe(real, name)
        for prop, _, _ in EXTENSIONS.get(service, {}).get(type_name, ()):  # a tenant's fields
            props[prop] = "Edm.String"
        assert _describe(served, name) == (type_name, keys, props), name


def test_sandbox_plan_metadata_matches_openapi(reference_sap, sandbox):
    url, _ = sandbox
    spec = json.loads((reference_sap / "OP_API_MAINTENANCEPLAN_0001.openapi.json").read_text())
    schema = spec["components"]["schemas"]["cds_api_maintenanceplan.MaintenancePlanType"]
    expected = [n for n, p in schema["properties"].items() if p.get("type") != "object"]
    resp = requests.get(
        f"{url}/sap/opu/odata/sap/API_MAINTENANCEPLAN/$metadata", auth=("demo", "demo")
    )
    _, keys, props = _describe(_schema(resp.content), "MaintenancePlan")
    assert keys == ("MaintenancePlan",)
    assert list(props) == expected
    for name, typ in props.items():
        p = schema["properties"][name]
        if p.get("type") == "integer":
            assert typ.startswith("Edm.Int"), name
        elif p.get("format") == "decimal":
            assert typ == "Edm.Decimal", name
        elif str(p.get("example", "")).startswith("/Date("):
            assert typ in ("Edm.DateTime", "Edm.DateTimeOffset"), name
        elif str(p.get("example", "")).startswith("PT"):
            assert typ == "Edm.Time", name
        else:
            assert typ == "Edm.String", name


@pytest.mark.parametrize("service", sorted(RELEASED))
def test_sandbox_metadata_of_released_apis_is_their_written_types(sandbox, service):
    """APIs with no reference EDMX: the served $metadata (the checked-in file) has exactly the
    entity types `released` writes down (rerun metadata.build after changing one)."""
    url, _ = sandbox
    resp = requests.get(f"{url}/sap/opu/odata/sap/{service}/$metadata", auth=("demo", "demo"))
    assert resp.status_code == 200
    served = _schema(resp.content)
    assert (
        {es.name for es in served.entity_sets} == set(RELEASED[service]) == set(SERVICES[service])
    )
    edm = {"D": "Edm.DateTime", "DTO": "Edm.DateTimeOffset", "T": "Edm.Time", "B": "Edm.Boolean",
           "F": "Edm.Double", "I": "Edm.Int32"}  # fmt: skip
    for name, spec in RELEASED[service].items():
        expected = {p: edm.get(code, "Edm.String" if code[0] == "S" else "Edm.Decimal")
                    for p, code, _ in spec.props}  # fmt: skip
        assert _describe(served, name) == (f"{name}Type", spec.keys, expected), name
