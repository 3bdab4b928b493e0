"""Re-read by id (the webhooks' apply step; connectors.kit ``by_id``): Maximo lists the records
named by their remote ids with ``oslc.where=<remote id> in [..]``, in batches; a deleted id is
absent; an id that is not a number is refused before anything is sent."""

from __future__ import annotations

import pytest

from connectors.base import Window
from tests.connectors.maximo.conftest import connector


def _all(conn, entity):  # noqa: ANN001, ANN202
    return [r for page in conn.read(entity, Window()) for r in page]


def test_work_orders_by_remote_id_in_batches(sandbox, monkeypatch) -> None:
    url, handle = sandbox(size=120, seed=3)
    conn = connector(url)
    rows = _all(conn, "work-orders")
    want = [rows[5], rows[77], rows[101]]
    ids = [str(r["workorderid"]) for r in want]
    handle.mutate("MXAPIWODETAIL", (want[1]["siteid"], want[1]["wonum"]), description="changed")
    handle.delete("MXAPIWODETAIL", (want[2]["siteid"], want[2]["wonum"]))
    req = conn.id_request("work-orders", ids)
    assert req.params["oslc.where"] == f"workorderid in [{','.join(ids)}]"
    got = [r for page in conn.read_records("work-orders", [*ids, ids[0]]) for r in page]
    assert sorted(r["workorderid"] for r in got) == sorted(int(i) for i in ids[:2])
    assert {r["wonum"]: r["description"] for r in got}[want[1]["wonum"]] == "changed"
    # the read's fields: the mapping maps a re-read record like a listed one
    assert set(got[0]) >= {"wonum", "siteid", "status", "changedate"}
    # batches of by_id.batch ids: one request per batch, every record once
    m = type(conn).manifest
    monkeypatch.setattr(type(conn), "manifest",
                        m.model_copy(update={"by_id": m.by_id.model_copy(update={"batch": 7})}))  # fmt: skip
    sent = []
    real = conn.send
    monkeypatch.setattr(conn, "send", lambda req: sent.append(req) or real(req))
    many = [str(r["workorderid"]) for r in rows[:50]]
    got = [r for page in conn.read_records("work-orders", many) for r in page]
    assert sorted(str(r["workorderid"]) for r in got) == sorted(many)
    assert len(sent) == 8  # 50 ids / 7
    conn.close()


def test_ids_that_are_not_numbers_are_refused(shared) -> None:
    url, _ = shared
    conn = connector(url)
    for bad in ('1] or wonum in ["x"', "abc", "1,2"):
        with pytest.raises(ValueError, match="not an integer"):
            list(conn.read_records("assets", [bad]))
    assert list(conn.read_records("assets", [])) == []
    conn.close()


def test_teams_have_no_numeric_id_and_are_quoted(shared) -> None:
    url, _ = shared
    conn = connector(url)
    teams = [r for page in conn.read("teams", Window()) for r in page]
    name = teams[0]["persongroup"]
    assert conn.id_request("teams", [name]).params["oslc.where"] == f'persongroup in ["{name}"]'
    got = [r for page in conn.read_records("teams", [name, "NO-SUCH"]) for r in page]
    assert [r["persongroup"] for r in got] == [name]
    with pytest.raises(ValueError, match="plain id"):
        list(conn.read_records("teams", ['x" or persongroup="y']))
    conn.close()
