"""Schemathesis over the admin API's OpenAPI operations (``/api/system/*``), in process (ASGI),
with the offline Airflow adapter and the admin token: whatever the generated path, query and body,
no response is a 5xx, and errors have the API's shape. Bounded: a few examples per operation."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from include.admin.airflow_adapter import Credentials, MemoryAirflowAdapter
from include.admin.base import NewConnection
from include.airflow.plugin import build_app
from include.store import Store
from tests.lifecycle.conftest import ADMIN, HEADERS, MAINTAINX_KEY, maintainx_url

# Collection needs the schema, so the app is built at import; the store is only touched (migrated,
# seeded) by the module fixture below, and its temporary directory is removed afterwards.
_DIR = Path(tempfile.mkdtemp(prefix="mw-fuzz-system-"))
STORE = Store(f"sqlite:///{_DIR / 'store.db'}")
AIRFLOW = MemoryAirflowAdapter()
KNOWN = ("fz-a", "fz-b")
_TURN = itertools.count()
APP = build_app(STORE, AIRFLOW, config_provider=lambda cid: None, migrate=False)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).include(path_regex="^/api/system/")


@pytest.fixture(scope="module", autouse=True)
def seeded():
    """Two connections (one disconnected) so that known ids and customers exist."""
    STORE.migrate()
    lc = APP.state.lifecycle
    AIRFLOW.set_connection("mw_fz", Credentials(host=maintainx_url(), password=MAINTAINX_KEY))
    for cid in KNOWN:
        req = NewConnection(customer="fz", system="maintainx", id=cid, airflow_conn_id="mw_fz")
        lc.create(req, "seed")
        AIRFLOW.register_dag(f"sync__{cid}")
    lc.disconnect("fz-b", "seed")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MILLWRIGHT_ADMIN_TOKEN", ADMIN)
        yield
    STORE.close()
    shutil.rmtree(_DIR, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case):
    # Random ids are almost always unknown (404): every other case of an operation with an id or
    # a customer in its path targets a seeded one instead (active, disconnected, or purged by an
    # earlier case), deterministically.
    turn = next(_TURN)
    if case.path_parameters and turn % 2:
        known = {"cid": KNOWN[turn // 2 % len(KNOWN)], "customer": "fz"}
        case.path_parameters = {k: known.get(k, v) for k, v in case.path_parameters.items()}
    creating = case.operation.path == "/api/system/connections" and isinstance(case.body, dict)
    if creating and turn % 2:
        case.body = {**case.body, "system": "maintainx"}  # else nearly always an unknown system
    response = case.call(headers=HEADERS)
    assert response.status_code < 500, (
        case.method, case.path, case.path_parameters, case.query, case.body, response.text[:500]
    )  # fmt: skip
    content_type = str(response.headers.get("content-type"))
    assert "application/json" in content_type or "application/x-ndjson" in content_type
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"message", "errors"} and body["message"], body
