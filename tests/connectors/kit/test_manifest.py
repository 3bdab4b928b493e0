"""The manifest schema: clear errors naming the field, and the two systems' manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.kit import (
    ManifestError,
    entity_specs,
    load_manifest,
    parse_manifest,
    requested_fields,
)
from include.mapping import EntityMapping

CONNECTORS = Path(__file__).resolve().parents[3] / "connectors"


def base(**over):
    m = {
        "system": "demo",
        "auth": {"kind": "api_key", "in": "header", "name": "x-key"},
        "paginator": {"kind": "cursor", "next": "next"},
        "entities": {"vendors": {"path": "/vendors", "key": ["id"]}},
    }
    m.update(over)
    return m


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"auth": {"kind": "kerberos"}}, "auth: Input tag 'kerberos' found using 'kind' does not match"),
        ({"auth": {"kind": "api_key"}}, "auth.api_key.name: Field required"),
        ({"paginator": {"kind": "cursor"}}, "paginator.cursor.next: Field required"),
        ({"paginator": {"kind": "plugin", "plugin": "no colon"}}, "paginator.plugin.plugin: must be 'package.module:ClassName'"),
        ({"system": "Bad Name"}, "system: String should match pattern"),
        ({"entities": {}}, "entities: Dictionary should have at least 1 item"),
        ({"entities": {"vendors": {"path": "/v", "key": []}}}, "entities.vendors.key: List should have at least 1 item"),
        ({"entities": {"vendors": {"path": "/v", "key": ["id"], "change_time": "t"}}},
         "entities.vendors: change_time needs a top-level incremental"),
        ({"entities": {"vendors": {"path": "/v", "key": ["id"], "fields": ["a"]}}},
         "entities.vendors: fields need a top-level requested_fields"),
        ({"incremental": {"mode": "params"}}, "incremental: mode 'params' needs start_param"),
        ({"incremental": {"mode": "params", "start_param": "s", "format": "rfc822"}}, "incremental.format: Input should be"),
        ({"entities": {"vendors": {"path": "/v", "key": ["id"], "colour": "red"}}}, "entities.vendors.colour: Extra inputs are not permitted"),
        ({"statuses": {"gizmos": {"values": ["A"]}}}, "statuses.gizmos: no such entity"),
        ({"webhooks": {"algorithm": "md5"}}, "webhooks.algorithm: Input should be 'hmac-sha256'"),
        ({"by_id": {"param": "ids", "format": "id in [..]"}}, "by_id.format: format must contain {ids}"),
        ({"by_id": {"param": "ids", "format": "{ids} {other}"}}, "by_id.format: format: only {ids} and {field} may be used"),
        ({"by_id": {"param": "ids", "batch": 0}}, "by_id.batch: Input should be greater than or equal to 1"),
    ],
)  # fmt: skip
def test_errors_name_the_field(change, message):
    with pytest.raises(ManifestError) as exc:
        parse_manifest(base(**change), "demo/manifest.yaml")
    assert str(exc.value).startswith("demo/manifest.yaml: invalid manifest")
    assert message in str(exc.value)


def test_files_that_cannot_be_read_or_parsed(tmp_path):
    with pytest.raises(ManifestError, match="cannot read it"):
        load_manifest(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("system: [unclosed")
    with pytest.raises(ManifestError, match="not valid YAML"):
        load_manifest(bad)
    top = tmp_path / "list.yaml"
    top.write_text("- a\n- b\n")
    with pytest.raises(ManifestError, match="expected a mapping at the top"):
        load_manifest(top)


def test_the_mapping_table_must_agree_with_the_manifest():
    m = parse_manifest(base())
    with pytest.raises(ManifestError, match=r"entities.vendors.key \['id'\] differs"):
        entity_specs(m, {"vendors": EntityMapping(key=("code",), fields={})})
    with pytest.raises(ManifestError, match=r"mappings without a manifest entity: \['users'\]"):
        entity_specs(
            m,
            {
                "vendors": EntityMapping(key=("id",), fields={}),
                "users": EntityMapping(key=("id",), fields={}),
            },
        )
    specs = entity_specs(m, {"vendors": EntityMapping(key=("id",), fields={"name": "name"})})
    assert specs["vendors"].incremental is False


def test_requested_fields_adds_custom_field_paths_once():
    m = load_manifest(CONNECTORS / "maximo" / "manifest.yaml")
    fields = requested_fields(m, "purchase-orders", ("crewid", "poline.x", "description", "vendor"))
    assert (
        fields[: len(m.entities["purchase-orders"].fields)] == m.entities["purchase-orders"].fields
    )
    assert fields.count("description") == 1 and fields[-1] == "crewid"
    assert "poline" not in fields  # poline{*} already asks for the whole collection


@pytest.mark.parametrize("system", ["maximo", "maintainx"])
def test_the_systems_manifests_load(system):
    m = load_manifest(CONNECTORS / system / "manifest.yaml")
    assert m.system == system and "work-orders" in m.entities
    assert m.entities["work-orders"].is_incremental


def test_a_system_is_a_manifest_a_mapping_table_and_one_line(tmp_path, monkeypatch):
    pkg = tmp_path / "toysys"
    pkg.mkdir()
    (pkg / "manifest.yaml").write_text(
        "system: toysys\nauth: {kind: bearer, credential: token}\n"
        "paginator: {kind: page_number, size_param: per_page, max_size: 50}\nrecords: items\n"
        "entities: {vendors: {path: /vendors, key: [code]}}\n"
    )
    (pkg / "mapping.py").write_text(
        "from include.mapping import EntityMapping\n"
        "MAPPINGS = {'vendors': EntityMapping(key=('code',), fields={'name': 'name'})}\n"
    )
    (pkg / "__init__.py").write_text(
        "from connectors.kit import manifest_connector\nCONNECTOR = manifest_connector(__name__)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    from toysys import CONNECTOR  # type: ignore[import-not-found]

    assert CONNECTOR.system == "toysys" and CONNECTOR.__name__ == "ToysysConnector"
    assert CONNECTOR.entities["vendors"].incremental is False
    assert CONNECTOR.manifest.paginator.max_size == 50
