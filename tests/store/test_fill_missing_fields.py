"""`Store.fill_missing_fields`: records stored before every record carried every field of its
model get the missing fields (empty values), keep their own, on SQLite and PostgreSQL; the CLI's
``fill-fields`` runs it for every entity."""

from __future__ import annotations

import orjson
import pytest

from include.cli import tools
from include.model import ENTITIES, record_defaults
from include.store import LoadRow, Store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}" if request.param == "sqlite" else None
    if url is None:
        url = request.getfixturevalue("pg_url")
    s = Store(url)
    s.migrate()
    yield s
    s.close()


def _load(store: Store, entity: str, docs: list[dict]) -> None:
    rows = [
        LoadRow(key=d["key"], remote_id=None, version=d.get("updatedAt"),
                data=orjson.dumps(d).decode(), raw=None, updated_at=d.get("updatedAt"),
                created_at=None, deleted_at=None)
        for d in docs
    ]  # fmt: skip
    store.load_batch("c1", entity, rows, synced_at="2024-01-01T00:00:00Z")


def test_missing_fields_appear_and_values_stay(store):
    old = [
        {"key": "a", "title": "Pump", "deletedAt": None, "updatedAt": "2024-01-02T00:00:00Z"},
        {"key": "b", "customFields": {"x": 1}, "tasks": [{"key": "t"}]},
    ]
    _load(store, "work-orders", old)
    _load(store, "assets", [{"key": "z", "name": "A"}])
    before = store.get_record("c1", "work-orders", "a")
    assert store.fill_missing_fields("work-orders", record_defaults("work-orders")) == 2
    assert store.fill_missing_fields("work-orders", record_defaults("work-orders")) == 0
    a = store.get_record("c1", "work-orders", "a")
    b = store.get_record("c1", "work-orders", "b")
    fields = set(ENTITIES["work-orders"].model_fields)
    assert set(a["data"]) == fields == set(b["data"])
    assert a["data"]["title"] == "Pump" and a["data"]["statusCategory"] is None
    assert a["data"]["tasks"] == [] and a["data"]["customFields"] == {}
    assert b["data"]["customFields"] == {"x": 1} and b["data"]["tasks"] == [{"key": "t"}]
    assert a["updated_at"] == before["updated_at"] and a["version"] == before["version"]
    # another entity is left alone until asked
    assert set(store.get_record("c1", "assets", "z")["data"]) == {"key", "name"}
    with pytest.raises(ValueError, match="not field names"):
        store.fill_missing_fields("assets", {"bad name'": None})


def test_cli_fill_fields(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    s = Store(url)
    s.migrate()
    _load(s, "assets", [{"key": "z", "name": "A"}])
    s.close()
    assert tools.main(["fill-fields", "--store", url]) == 0
    assert "assets: 1" in capsys.readouterr().out
    s = Store(url)
    assert set(s.get_record("c1", "assets", "z")["data"]) == set(ENTITIES["assets"].model_fields)
    s.close()
