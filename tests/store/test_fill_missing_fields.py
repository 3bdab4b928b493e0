"""`Store.fill_missing_fields`: records stored before every record carried every field of its
model get the missing fields (empty values), keep their own, on SQLite and PostgreSQL; the CLI's
``fill-fields`` runs it for every entity, and `Store.rewrite_records` with
`include.model.nested.fill_record` for the nested objects Makini declares."""

from __future__ import annotations

import functools

import orjson
import pytest

from include.cli import tools
from include.model import ENTITIES, record_defaults
from include.model.nested import ADDRESS, SHAPES, fill_record
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


def test_nested_objects_get_their_sub_fields_and_nothing_else_changes(store):
    old = [
        {"key": "a", "tasks": [{"key": "t1", "title": "x"}], "updatedAt": "2024-01-02T00:00:00Z"},
        {"key": "b", "tasks": []},
    ]
    _load(store, "work-orders", old)
    before = {k: store.get_record("c1", "work-orders", k) for k in "ab"}
    fill = functools.partial(fill_record, "work-orders")
    assert store.rewrite_records("work-orders", fill, batch=1) == 1  # "b" has no task
    after = {k: store.get_record("c1", "work-orders", k) for k in "ab"}
    task = after["a"]["data"]["tasks"][0]
    assert set(task) == set(SHAPES["Task"].empty) and task["title"] == "x"
    assert task["checkList"] == [] and task["code"] is None
    if store.dialect == "sqlite":  # PostgreSQL's jsonb orders keys its own way
        assert list(task) == list(SHAPES["Task"].empty)
    assert after["b"]["data"] == before["b"]["data"]
    for k in "ab":
        assert after[k]["updated_at"] == before[k]["updated_at"]
        assert after[k]["version"] == before[k]["version"]
    assert store.rewrite_records("work-orders", fill) == 0  # nothing left to fill


def test_cli_fill_fields_fills_nested_objects(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    s = Store(url)
    s.migrate()
    _load(s, "locations", [{"key": "l", "address": {"city": "Oslo"}}])
    s.close()
    assert tools.main(["fill-fields", "--store", url]) == 0
    assert "locations nested objects: 1" in capsys.readouterr().out
    s = Store(url)
    address = s.get_record("c1", "locations", "l")["data"]["address"]
    s.close()
    assert list(address) == list(ADDRESS) and address["city"] == "Oslo"
