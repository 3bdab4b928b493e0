"""The API's servers settle the heap once the app is built (include/api/server.py, settle_heap):
without it the collector's full passes walked every module-level object and paused the event
loop for 40-60 ms, the whole p99 of the webhook receiver (docs/BENCHMARKS.md)."""

from __future__ import annotations

import gc

import pytest

from include.api.server import GC_FREEZE_ENV, settle_heap


@pytest.fixture(autouse=True)
def _unfreeze():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_settle_heap_moves_the_live_objects_out_of_the_collectors_way(monkeypatch):
    monkeypatch.delenv(GC_FREEZE_ENV, raising=False)
    assert gc.get_freeze_count() == 0
    assert settle_heap() is True
    assert gc.get_freeze_count() > 10_000  # modules, classes, the app's routes and models
    # what is made afterwards is still collected
    cycle: list = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1


@pytest.mark.parametrize("value", ["0", "false", "off", " no "])
def test_settle_heap_can_be_turned_off(monkeypatch, value):
    monkeypatch.setenv(GC_FREEZE_ENV, value)
    assert settle_heap() is False
    assert gc.get_freeze_count() == 0


def test_a_bad_value_names_the_variable(monkeypatch):
    monkeypatch.setenv(GC_FREEZE_ENV, "sometimes")
    with pytest.raises(ValueError, match=f"{GC_FREEZE_ENV} must be 1 or 0"):
        settle_heap()


def test_the_airflow_plugins_lazy_app_settles_the_heap_once_built(monkeypatch):
    import include.airflow.plugin as airflow_plugin
    from plugins.millwright_plugin import LazyApp

    built: list[object] = []

    def build_app():
        built.append(object())
        return built[-1]

    monkeypatch.delenv(GC_FREEZE_ENV, raising=False)
    monkeypatch.setattr(airflow_plugin, "build_app", build_app)
    lazy = LazyApp()
    assert gc.get_freeze_count() == 0  # importing or constructing costs nothing
    app = lazy.app()
    assert app is built[0] and gc.get_freeze_count() > 0
    assert lazy.app() is app and len(built) == 1
