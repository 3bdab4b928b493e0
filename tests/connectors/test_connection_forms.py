"""connection.yaml per system (the Airflow form as data) and `Connector.check()` against each
system's sandbox: the right secret passes, a wrong one fails with the source's plain reason."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors.connection import (
    ConnectionFieldsError,
    ConnFields,
    FormError,
    check,
    form,
    forms,
    parse_form,
    settings_from,
)
from connectors.registry import systems

UTC = ZoneInfo("UTC")
GOOD, WRONG = "right-secret-1", "wrong-secret-2"


def settings(system: str, conn: ConnFields, **kw):
    return settings_from(system, conn, connection_id="c-test", timezone=UTC, **kw)


def test_every_system_declares_its_connection_type():
    assert [f.system for f in forms()] == systems()
    for f in forms():
        assert f.conn_type == f"millwright_{f.system}"
        assert f.credentials, f"{f.system}: no credential declared"
        assert "host" not in f.hidden


def test_one_credential_name_per_system():
    conn = ConnFields(host="h", login="u", password="p", conn_type="millwright_maximo")
    assert settings("maximo", conn).credentials == {"apikey": "p"}
    conn = ConnFields(host="h", password="p", conn_type="millwright_maintainx")
    assert settings("maintainx", conn).credentials == {"api_key": "p"}
    for system in ("sap_s4hana", "tryton"):
        conn = ConnFields(host="h", login="u", password="p", conn_type=f"millwright_{system}")
        assert settings(system, conn).credentials == {"user": "u", "password": "p"}


def test_options_from_the_connection_and_the_config_wins():
    conn = ConnFields(host="t:8000", login="u", password="p", schema="prod",
                      conn_type="millwright_tryton")  # fmt: skip
    assert settings("tryton", conn).options == {"database": "prod"}
    assert settings("tryton", conn, options={"database": "other"}).options == {"database": "other"}
    conn = ConnFields(host="https://s4.example.com", login="u", password="p",
                      extra={"sap_client": "100"}, conn_type="millwright_sap_s4hana")  # fmt: skip
    s = settings("sap_s4hana", conn)
    assert s.options == {"sap_client": "100"} and s.host == "https://s4.example.com"


def test_older_http_connections_keep_working():
    """An ``http`` Connection: the password is the key; an extra named like the credential
    (``apikey``, ``api_key``, ``user``) is read too."""
    conn = ConnFields(host="127.0.0.1", port=8801, password="k", conn_type="http")
    s = settings("maximo", conn)
    assert (s.host, s.credentials) == ("http://127.0.0.1:8801", {"apikey": "k"})
    conn = ConnFields(host="https://x", extra={"api_key": "k2"}, conn_type="http")
    assert settings("maintainx", conn).credentials == {"api_key": "k2"}
    conn = ConnFields(host="erp.example", schema="https", login="u", password="p", conn_type="http")
    s = settings("tryton", conn, options={"database": "prod"})  # the schema is the scheme there
    assert (s.host, s.options) == ("https://erp.example", {"database": "prod"})
    conn = ConnFields(host="https://x", extra={"api_key": "k2"}, conn_type="millwright_maintainx")
    with pytest.raises(ConnectionFieldsError, match="has no API key"):
        settings("maintainx", conn)


def test_missing_pieces_are_named():
    with pytest.raises(ConnectionFieldsError, match="'c9' has no host"):
        settings("maximo", ConnFields(password="k", conn_id="c9"))
    with pytest.raises(ConnectionFieldsError, match="sap_s4hana: .* has no Communication user"):
        settings(
            "sap_s4hana", ConnFields(host="h", password="p", conn_type="millwright_sap_s4hana")
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("conn_type: millwright_other\nlabel: X\n", "conn_type: must be 'millwright_demo'"),
        ("conn_type: millwright_demo\n", "label: required"),
        ("conn_type: millwright_demo\nlabel: X\ncredentials: {apikey: token}\n",
         "credentials.apikey: 'token' is neither"),
        ("conn_type: millwright_demo\nlabel: X\nhidden: [password]\n"
         "credentials: {apikey: password}\n", "hides 'password'"),
        ("conn_type: millwright_demo\nlabel: X\nfields: {host: {label: H}}\n",
         "fields.host: an extra field"),
        ("conn_type: millwright_demo\nlabel: X\nwidgets: {}\n", "widgets: unknown key"),
        ("conn_type: millwright_demo\nlabel: X\nrelabel: {tenant: T}\n", "relabel.tenant"),
    ],
)  # fmt: skip
def test_a_wrong_form_is_refused_naming_the_key(tmp_path: Path, text: str, message: str):
    path = tmp_path / "demo" / "connection.yaml"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(FormError, match=message):
        parse_form("demo", path)


def test_form_of_an_unknown_folder():
    with pytest.raises(FormError, match="no connection.yaml"):
        form("no_such_system")


# ---------------------------------------------------------------- check() against sandboxes


@pytest.mark.integration
def test_check_maximo():
    from connectors.maximo.sandbox import start_sandbox

    url, handle = start_sandbox(size=20, apikey=GOOD)
    try:
        ok = ConnFields(host=url, password=GOOD, conn_type="millwright_maximo")
        assert check("maximo", settings("maximo", ok)) is None
        bad = ConnFields(host=url, password=WRONG, conn_type="millwright_maximo")
        reason = check("maximo", settings("maximo", bad))
        assert reason is not None and reason.startswith("maximo refused the credentials (HTTP 401)")
        assert "BMXAA" in reason and WRONG not in reason
    finally:
        handle.stop()


@pytest.mark.integration
def test_check_maintainx():
    from connectors.maintainx.sandbox import start_sandbox

    url, handle = start_sandbox(size=20, api_key=GOOD)
    try:
        ok = ConnFields(host=url, password=GOOD, conn_type="millwright_maintainx")
        assert check("maintainx", settings("maintainx", ok)) is None
        bad = ConnFields(host=url, password=WRONG, conn_type="millwright_maintainx")
        assert check("maintainx", settings("maintainx", bad)) == (
            "maintainx refused the credentials (HTTP 401): Invalid token"
        )
    finally:
        handle.stop()


@pytest.mark.integration
def test_check_sap():
    from connectors.sap_s4hana.sandbox import start

    url, handle = start(size=20, user="comm", password=GOOD)
    try:
        ok = ConnFields(host=url, login="comm", password=GOOD, conn_type="millwright_sap_s4hana")
        assert check("sap_s4hana", settings("sap_s4hana", ok)) is None
        bad = ConnFields(host=url, login="comm", password=WRONG,
                         conn_type="millwright_sap_s4hana")  # fmt: skip
        assert check("sap_s4hana", settings("sap_s4hana", bad)) == (
            "sap_s4hana refused the credentials (HTTP 401): Logon failed"
        )
    finally:
        handle.stop()


def test_check_unreachable_host():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conn = ConnFields(host="127.0.0.1", port=port, password="k", conn_type="millwright_maximo")
    reason = check("maximo", settings("maximo", conn))
    assert reason is not None and reason.startswith("maximo could not be reached (ConnectionError")


def test_check_reports_a_missing_setting():
    conn = ConnFields(host="http://127.0.0.1:1", login="u", password="p",
                      conn_type="millwright_tryton")  # fmt: skip
    assert check("tryton", settings("tryton", conn)) == (
        "tryton: the database name is required (options.database)"
    )


def test_a_broken_form_leaves_out_only_its_system(monkeypatch: pytest.MonkeyPatch, caplog):
    """Airflow's provider discovery must not fail for every system because one folder's form is
    missing or wrong (a connector being written): lenient listing leaves it out, with a warning."""
    import connectors.connection as cc

    real = cc.form

    def broken(system: str):
        if system == "maximo":
            raise FormError("maximo: no connection.yaml in its connector folder")
        return real(system)

    monkeypatch.setattr(cc, "form", broken)
    with pytest.raises(FormError):
        cc.forms()
    lenient = [f.system for f in cc.forms(strict=False)]
    assert "maximo" not in lenient and "tryton" in lenient
    assert "connection type of maximo left out" in caplog.text


def test_a_json_field_becomes_an_option_object():
    paths = {"API_MAINTENANCEORDER": "API_MAINTENANCEORDER;v=0003"}
    base = {"host": "h", "login": "u", "password": "p", "conn_type": "millwright_sap_s4hana"}
    for extra in ({"service_paths": json.dumps(paths)}, {"service_paths": paths}):
        s = settings("sap_s4hana", ConnFields(**base, extra=extra))
        assert s.options == {"service_paths": paths}
    bad = ConnFields(**base, extra={"service_paths": "API_X;v=2"})
    with pytest.raises(ConnectionFieldsError, match="Service paths: must be a JSON object"):
        settings("sap_s4hana", bad)


def test_the_default_check_reads_one_page_of_keys_and_stops():
    """A connector without its own check(): the first page of its first entity's key listing,
    and the listing is closed (no further page is requested)."""
    from connectors.base import Connector
    from connectors.maintainx import CONNECTOR as MaintainX

    requested: list[int] = []

    class Paged(Connector):
        system = "paged"
        entities = MaintainX.entities

        def read(self, entity, window):
            for n in range(3):
                requested.append(n)
                yield [{"id": n}]

    conn = ConnFields(host="h", password="p", conn_type="millwright_maintainx")
    Paged(settings("maintainx", conn)).check()
    assert requested == [0]
