"""The pipeline's fast paths give the same results as the plain ones they replace."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from pydantic import ValidationError

from connectors.maximo import CONNECTOR as Maximo
from connectors.maximo.sandbox import start_sandbox
from include.config import ConnectionConfig
from include.model import ENTITIES, list_adapter, page_checker
from include.model.timeutil import to_utc_iso, utc_iso_converter, zone
from include.store import LoadRow, Store
from include.sync import pipeline


@pytest.mark.parametrize("tz", [None, "UTC", "America/New_York", "Asia/Kolkata"])
def test_utc_iso_converter_matches_to_utc_iso(tz: str | None) -> None:
    z = zone(tz) if tz else None
    conv = utc_iso_converter(z)
    rnd = random.Random(3)
    values: list[object] = [
        "2023-12-31T19:00:00-05:00", "2024-02-29T23:59:59+01:00", "2023-03-12T02:30:00",
        "2023-11-05T01:30:00", "2023-12-31T19:00:00.5+05:30", "2023-12-31T19:00:00Z",
        "/Date(1700000000000)/", "2023-12-31", 1700000000000, "", None, datetime(2020, 1, 1),
        "2023-12-31T19:60:00-05:00", "2023-02-30T10:00:00+00:00", "2023-12-31T24:00:00-05:00",
        "2023-12-31T19:0a:00-05:00", "nope", True,
    ]  # fmt: skip
    for _ in range(2000):
        off = timezone(timedelta(hours=rnd.randint(-12, 14)))
        values.append(datetime.fromtimestamp(rnd.randint(0, 2_000_000_000), off).isoformat())
    for v in values * 2:  # the second pass hits the memo
        try:
            expected = to_utc_iso(v, z)
        except ValueError:
            with pytest.raises(ValueError):
                conv(v)
            continue
        assert conv(v) == expected, v


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_page_checker_agrees_with_the_model(entity: str) -> None:
    good = {"key": "a", "customFields": {"x": 1}, "updatedAt": "2024-01-01T00:00:00Z"}
    bad = [
        {"key": ""}, {"key": "a", "unknownField": 1}, {"key": "a", "updatedAt": "yesterday"},
        {"key": "a", "customFields": None}, {},
    ]  # fmt: skip
    page_checker(entity).validate_python([good])
    list_adapter(entity).validate_python([good])
    for rec in bad:
        with pytest.raises(ValidationError):
            list_adapter(entity).validate_python([rec])
        with pytest.raises(ValidationError):
            page_checker(entity).validate_python([rec])


def test_prefetch_yields_in_order_and_reraises() -> None:
    assert list(pipeline.prefetch(iter(range(50)))) == list(range(50))

    def failing():
        yield 1
        raise RuntimeError("source broke")

    got = []
    with pytest.raises(RuntimeError, match="source broke"):
        for x in pipeline.prefetch(failing()):
            got.append(x)
    assert got == [1]


def test_mapped_rows_round_trip(tmp_path: Path) -> None:
    parent = LoadRow(
        key="S:1", remote_id="7", version="2024-01-01T00:00:00Z",
        data=orjson.dumps({"key": "S:1", "title": "tab\there\nnewline"}).decode(),
        raw=orjson.dumps({"x": "a\tb"}).decode(), updated_at="2024-01-01T00:00:00Z",
    )  # fmt: skip
    child = LoadRow(
        key="S:1:1", remote_id=None, version=None, data='{"key":"S:1:1"}', raw="{}",
        parent_key="S:1", deleted_at="2024-01-02T00:00:00Z",
    )  # fmt: skip
    rows = {"purchase-orders": [parent], "purchase-orders.line-items": [child]}
    path = tmp_path / "mapped.jsonl"
    with path.open("wb") as fh:
        pipeline.write_rows(fh, rows)
        pipeline.write_rows(fh, rows)
    pages = list(pipeline.iter_mapped(path))
    assert pages == [rows, rows]  # every field of every row, by entity, in order
    row = pages[0]["purchase-orders"][0]
    assert isinstance(row, LoadRow)
    assert orjson.loads(row.data) == {"key": "S:1", "title": "tab\there\nnewline"}
    assert orjson.loads(row.raw) == {"x": "a\tb"}


def test_map_pages_in_worker_processes_matches_in_process(tmp_path: Path) -> None:
    url, handle = start_sandbox(0, size=300, apikey="k", seed=5)
    cfg = ConnectionConfig(id="mx", customer="acme", system="maximo", airflow_conn_id="unused",
                           entities=["work-orders"], page_size=50)  # fmt: skip
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    try:
        from connectors.base import SourceSettings, Window

        settings = SourceSettings("mx", url, {"apikey": "k"}, zone("UTC"), page_size=50)
        with Maximo(settings) as src:
            extracted = pipeline.extract(src, "work-orders", Window(), tmp_path / "x")
        out = {}
        for workers in (1, 2):
            d = tmp_path / f"w{workers}"
            m = pipeline.map_pages(Maximo, cfg, "work-orders", extracted, d, store, "r",
                                   workers=workers)  # fmt: skip
            out[workers] = (
                Path(m["mapped_path"]).read_bytes(), Path(m["keys_path"]).read_bytes(),
                m["mapped"], m["max_updated"], m["statuses"],
            )  # fmt: skip
        assert out[1] == out[2]
        assert out[1][2] == 300
    finally:
        store.close()
        handle.stop()
