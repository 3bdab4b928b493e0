"""Shared pytest fixtures (keep small; other suites add theirs)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_URL_ENV = "MILLWRIGHT_TEST_PG_URL"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test.

    Skips when the server does not answer, except with CI=true where that fails the test.
    """
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    url = sa.make_url(os.environ.get(PG_URL_ENV, DEFAULT_PG_URL))
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError as exc:
        admin.dispose()
        msg = (
            f"PostgreSQL at {url.render_as_string(hide_password=True)} does not answer: {exc.orig}"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    try:
        scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()
