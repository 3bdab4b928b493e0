"""`TrytonConnector.check()` against the real Tryton server: logs in and reads one company."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from connectors.connection import ConnFields, check, settings_from
from connectors.tryton.server import TrytonHandle


def _settings(tryton: TrytonHandle, password: str):
    conn = ConnFields(host=tryton.url, login=tryton.user, password=password, schema=tryton.db,
                      conn_type="millwright_tryton")  # fmt: skip
    return settings_from("tryton", conn, connection_id="t", timezone=ZoneInfo("UTC"))


def test_check_passes_with_the_password(tryton: TrytonHandle):
    assert check("tryton", _settings(tryton, tryton.password)) is None


def test_check_fails_plainly_on_a_wrong_password(tryton: TrytonHandle):
    reason = check("tryton", _settings(tryton, "not-the-password"))
    assert reason is not None
    assert reason.startswith("tryton refused the credentials (HTTP 401)"), reason
    assert "not-the-password" not in reason
