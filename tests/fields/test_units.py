"""The connector-independent pieces: paths through metadata trees, closest fields, list-valued
custom paths, the source-path syntax, the re-map digest."""

from __future__ import annotations

import pytest

from include.config import ConnectionConfig
from include.mapping import CompiledMapping, EntityMapping
from include.mapping.spec import custom_getter
from include.model.source_fields import (
    SourceField,
    closest,
    dumps,
    find,
    flatten,
    loads,
    unknown_paths,
)
from include.model.timeutil import zone

F = SourceField
TREE = [
    F("wonum", "UPPER", "Work Order"), F("crewid", "ALN", "Crew"), F("amcrew", "ALN"),
    F("assignment", "object", children=(F("laborcode", "ALN"), F("craft", "ALN")), many=True),
    F("party", "many2one", children=(F("name", "char"),)),
]  # fmt: skip


def test_paths_through_the_tree_and_what_is_a_value():
    assert find(TREE, "assignment.laborcode").name == "laborcode"
    assert find(TREE, "assignment.nope") is None
    assert [f.path for f in flatten(TREE)][:5] == [
        "wonum", "crewid", "amcrew", "assignment", "assignment.laborcode"]  # fmt: skip
    cf = {"a": "crewid", "b": "assignment", "c": "party", "d": "party.name", "e": "crewd"}
    unknown = {u.name: u for u in unknown_paths("work-orders", cf, TREE)}
    assert set(unknown) == {"b", "e"}  # a child object is no value; a many2one is (its id)
    assert unknown["e"].closest[0] == "crewid"
    assert "custom_fields.work-orders.e: 'crewd' is not a field of maximo work-orders" in (
        unknown["e"].message("maximo"))  # fmt: skip
    assert closest(TREE, "assignment.labourcode")[0] == "assignment.laborcode"
    assert loads(dumps(TREE)) == TREE


def test_a_custom_path_through_a_list_gives_the_items_values():
    rec = {"a": [{"x": 1}, {"x": None}, {"x": 3}], "nav": {"results": [{"y": "p"}, {"y": "q"}]},
           "one": {"z": 5}}  # fmt: skip
    assert custom_getter("a.x")(rec) == [1, 3]
    assert custom_getter("nav.y")(rec) == ["p", "q"]  # OData v2 {"results": [...]}
    assert custom_getter("one.z")(rec) == 5 and custom_getter("one.w")(rec) is None
    assert custom_getter("a.w")(rec) is None  # no item has it
    m = CompiledMapping(EntityMapping(key=("id",), fields={}), zone("UTC"),
                        {"xs": "a.x", "plain": "one"})  # fmt: skip
    assert m({"id": 1, **rec}).data["customFields"] == {"xs": [1, 3], "plain": {"z": 5}}


@pytest.mark.parametrize("path,ok", [
    ("crewid", True), ("assignment.laborcode", True), ("extraFields.Cost Center", True),
    ("a.b.c.d", True), ("a.b.c.d.e", False), ("", False), (" crewid", False), ("a..b", False),
    ("crewid\n", False), ("x" * 101, False),
])  # fmt: skip
def test_source_path_syntax(path: str, ok: bool):
    entry = {"id": "c", "customer": "a", "system": "maximo", "airflow_conn_id": "x",
             "custom_fields": {"work-orders": {"f": path}}}  # fmt: skip
    if ok:
        ConnectionConfig.model_validate(entry)
    else:
        with pytest.raises(ValueError, match="is not a source path"):
            ConnectionConfig.model_validate(entry)


def test_the_digest_covers_the_entity_and_its_children_only():
    def cfg(cf: dict) -> ConnectionConfig:
        return ConnectionConfig(id="c", customer="a", system="maximo", airflow_conn_id="x",
                                custom_fields=cf)  # fmt: skip

    base = cfg({})
    po_line = cfg({"purchase-orders.line-items": {"g": "gldebitacct"}})
    wo = cfg({"work-orders": {"crew": "crewid"}})
    assert base.fields_fingerprint("purchase-orders") != po_line.fields_fingerprint(
        "purchase-orders"
    )
    assert base.fields_fingerprint("work-orders") == po_line.fields_fingerprint("work-orders")
    assert base.fields_fingerprint("work-orders") != wo.fields_fingerprint("work-orders")
    assert cfg({"work-orders": {}}).fields_fingerprint("work-orders") == base.fields_fingerprint(
        "work-orders")  # fmt: skip


def test_a_connector_that_cannot_describe_leaves_custom_fields_unchecked(tmp_path, caplog):
    from include.store import Store
    from include.sync import fields

    class Blind:  # a connector without describe()
        system = "maximo"
        entities: dict = {}

        def describe(self, entity):
            raise NotImplementedError("maximo: describe() is not implemented")

    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    cfg = ConnectionConfig(id="c", customer="a", system="maximo", airflow_conn_id="x",
                           custom_fields={"work-orders": {"crew": "crewid"}})  # fmt: skip
    fields.ensure_known(Blind(), store, cfg, "work-orders")  # no exception: a warning
    assert "not checked" in caplog.text
    with pytest.raises(fields.NotDescribed):
        fields.refresh(Blind(), store, cfg, ["work-orders"])
    store.close()
