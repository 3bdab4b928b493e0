"""The generated row function equals the spec functions it inlines (values, field order, errors),
including repeated paths, dotted paths, opaque ``fn`` specs and the whole-hour time table."""

from __future__ import annotations

import random
from typing import Any

import pytest

from connectors.maximo.mapping import ENTITIES
from include.mapping import CompiledMapping, EntityMapping, MappingError, _getter, compile_spec
from include.model.keys import make_key
from include.model.timeutil import to_utc_iso, zone


def reference(cm: CompiledMapping, raw: dict, tz: Any) -> tuple:
    """``row`` built from the (uncompiled) spec functions, as documented in include/mapping.py."""
    m = cm.mapping
    key = make_key([_getter(p)(raw) for p in m.key])
    if key is None:
        raise MappingError(f"key: natural key ({', '.join(m.key)}) is missing")
    d: dict[str, Any] = {"key": key}
    for name, spec in m.fields.items():
        v = compile_spec(name, spec, tz)(raw)
        if v is not None:
            d[name] = v
    d["customFields"] = {n: _getter(p)(raw) for n, p in cm._custom_fields.items()}
    updated = m.updated or ({"ts": m.version} if m.version and m.version_is_time else None)
    for spec, name in ((m.created, "createdAt"), (updated, "updatedAt"), (m.deleted, "deletedAt")):
        if spec:
            d[name] = compile_spec(name, spec, tz)(raw)
    if m.version is None:
        ver = None
    elif m.version_is_time:
        ver = compile_spec("version", {"ts": m.version}, tz)(raw)
    else:
        ver = None if raw.get(m.version) is None else f"{int(raw[m.version]):020d}"
    rid = _getter(m.remote_id)(raw) if m.remote_id else None
    return key, None if rid is None else str(rid), ver, d


TIMES = [
    "2024-03-05T10:15:00-05:00", "2024-03-05T10:59:59-05:00", "2024-03-05T10:15:07+00:00",
    "2024-03-05T23:15:00-04:00", "2024-03-05T10:15:00+05:30", "2024-03-05T10:15:00.25-05:00",
    "2024-03-05T10:15:00Z", "2024-03-05T10:15:00", "2024-03-05", "2024-03-05 10:15:00-05:00",
    "2024-03-05T10:60:00-05:00", "2024-03-05T10:5\u00b2:00-05:00", "2024-03-05T1x:15:00-05:00",
    "2024-02-30T10:15:00-05:00", "/Date(1709651700000)/", 1709651700000, "", " ", None, "soon",
]  # fmt: skip
VALUES = ["A", "BEDFORD", " pad ", "", " ", "a:b", "x%/y", 7, 2.5, 0, True, None, ["l"]]


def random_record(rnd: random.Random, paths: set[str]) -> dict:
    rec: dict[str, Any] = {}
    for p in sorted(paths):
        if rnd.random() < 0.15:
            continue
        pool = TIMES if ("date" in p or p.endswith(("start", "finish"))) else VALUES
        rec[p] = rnd.choice(pool if rnd.random() < 0.9 else TIMES + VALUES)
    return rec


def _paths(m: EntityMapping) -> set[str]:
    out: set[str] = set(m.key) | {m.remote_id or "id", m.version or "v"}

    def walk(spec: Any) -> None:
        if isinstance(spec, str):
            out.add(spec.split(".")[0])
        elif isinstance(spec, dict):
            for k, v in spec.items():
                if k in ("ts", "str", "float", "int", "bool", "map", "refs"):
                    walk(v)
                elif k in ("ref", "each"):
                    out.update(v)
                elif k == "first":
                    for s in v:
                        walk(s)

    for spec in (*m.fields.values(), m.created, m.updated, m.deleted):
        walk(spec)
    return out | {"statusdate", "totalcost", "invbalances", "frequency", "curbaltotal"}


def outcome(fn: Any, raw: dict) -> Any:
    try:
        return ("ok", fn(raw))
    except MappingError as exc:
        return ("error", str(exc))
    except (
        ValueError,
        TypeError,
        AttributeError,
    ) as exc:  # a connector's fn failing on nonsense input
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("entity", sorted(ENTITIES))
@pytest.mark.parametrize("tzname", ["UTC", "America/New_York"])
def test_generated_row_equals_spec_functions(entity: str, tzname: str) -> None:
    tz = zone(tzname)
    mapping = ENTITIES[entity].mapping
    cm = CompiledMapping(mapping, tz, {"crew": "crewid", "deep": "a.b", "site": "siteid"})
    rnd = random.Random(f"{entity}{tzname}")
    paths = _paths(mapping) | {"crewid", "a"}
    for _ in range(3000):
        raw = random_record(rnd, paths)
        if "a" in raw and rnd.random() < 0.5:
            raw["a"] = {"b": rnd.choice(VALUES)}
        got = outcome(cm.row, raw)
        want = outcome(lambda r: reference(cm, r, tz), raw)
        assert got == want, raw
        if got[0] == "ok":
            assert list(got[1][3]) == list(want[1][3])  # field order


def test_whole_hour_table_agrees_with_to_utc_iso() -> None:
    tz = zone("Europe/Berlin")
    m = EntityMapping(key=("id",), fields={"a": {"ts": "t"}, "b": {"ts": "t"}, "c": {"ts": "u"}})
    cm = CompiledMapping(m, tz)
    rnd = random.Random(5)
    for _ in range(5000):
        hh, mm, ss = rnd.randrange(24), rnd.randrange(62), rnd.randrange(62)
        off = rnd.choice(["-05:00", "+00:00", "+05:30", "+14:00", "Z", ""])
        t = f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T{hh:02d}:{mm:02d}:{ss:02d}{off}"
        for _ in range(2):  # the second time through, the hour is in the table
            try:
                want = to_utc_iso(t, tz)
            except ValueError:
                with pytest.raises(MappingError, match="a: not a date/time"):
                    cm.row({"id": 1, "t": t, "u": t})
                continue
            _, _, _, d = cm.row({"id": 1, "t": t, "u": t})
            assert d["a"] == d["b"] == d["c"] == want


def test_opaque_fn_sees_and_changes_the_record() -> None:
    """A ``fn`` may change the record; fields after it read the record again."""

    def bump(r: dict, tz: Any) -> str:
        r["name"] = "changed"
        r["site"] = "S2"
        return "x"

    m = EntityMapping(
        key=("id",),
        fields={
            "before": "name", "siteKey": {"ref": ["site"]}, "f": {"fn": bump},
            "after": "name", "siteKey2": {"ref": ["site"]}, "pair": {"ref": ["site", "name"]},
        },
    )  # fmt: skip
    _, _, _, d = CompiledMapping(m, zone("UTC")).row({"id": 1, "name": "orig", "site": "S1"})
    assert d == {
        "key": "1", "before": "orig", "siteKey": "S1", "f": "x", "after": "changed",
        "siteKey2": "S2", "pair": "S2:changed", "customFields": {},
    }  # fmt: skip
