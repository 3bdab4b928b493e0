"""Each system's Airflow connection type, declared as data in ``connectors/<system>/connection.yaml``.

The file says what the Airflow UI's Connection form shows for the system (label, the extra
fields, which standard fields are hidden or relabelled, placeholders) and how a filled-in
Connection becomes the connector's settings: the ONE name per credential the connector reads
(``credentials: {apikey: password}``: the connector's ``apikey`` is the Connection's password)
and the connector options a field carries (``options: {database: schema}``). Nothing here
imports Airflow: `include.airflow.hooks` turns the forms into provider info and hook classes, and
the admin API's create/reconnect runs the same `check` before it saves anything.

Format (every key but ``conn_type`` and ``label`` optional)::

    conn_type: millwright_maximo        # "millwright_<system>"
    label: IBM Maximo Manage            # the form's connection-type name
    description: ...                    # one line, shown in docs
    credentials:                        # credential name the connector reads -> field
      apikey: password
    options:                            # connector option -> field (the config's option wins)
      api_root: api_root
    fields:                             # extra fields (stored in the Connection's extra)
      api_root:
        label: API root
        description: ...
        placeholder: /maximo/api
        secret: false                   # true: a password field, masked in the UI
        required: false
        json: false                     # true: the value is a JSON object (an option's dict)
    hidden: [login, schema]             # standard fields the form hides
    relabel: {host: Maximo URL, password: API key}
    placeholders: {host: "https://maximo.example.com"}

A field is a standard one (``host``, ``login``, ``password``, ``schema``, ``port``) or a declared
extra field. A Connection of another type (an older ``http`` one) is read by the same rules; for
such a Connection a credential also falls back to an extra named like the credential.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import yaml

from connectors.base import SourceError, SourceSettings

log = logging.getLogger(__name__)
_ROOT = Path(__file__).parent
FILE_NAME = "connection.yaml"
STANDARD = ("host", "login", "password", "schema", "port")
HIDEABLE = (*STANDARD, "extra", "description")
_TOP_KEYS = {
    "conn_type", "label", "description", "credentials", "options", "fields", "hidden",
    "relabel", "placeholders",
}  # fmt: skip
_FIELD_KEYS = {"label", "description", "placeholder", "secret", "required", "json"}
# How long a connection test may take: one try, no retry storm against a wrong host.
CHECK_TIMEOUT = 15.0


class FormError(ValueError):
    """A ``connection.yaml`` that does not follow the format; the message names file and key."""


class ConnectionFieldsError(ValueError):
    """A Connection that cannot make the connector's settings: no host, a credential missing."""


@dataclass(frozen=True)
class FieldSpec:
    """One extra field of the form (stored in the Connection's extra under ``name``)."""

    name: str
    label: str
    description: str = ""
    placeholder: str = ""
    secret: bool = False
    required: bool = False
    json: bool = False


@dataclass(frozen=True)
class ConnFields:
    """An Airflow Connection's fields, without Airflow (what the hook and the admin API pass)."""

    host: str | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    schema: str | None = None
    port: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)
    conn_type: str | None = None
    conn_id: str | None = None

    def value(self, name: str) -> str | None:
        """A standard field's or an extra's value as a non-empty string, else None."""
        raw = getattr(self, name) if name in STANDARD else self.extra.get(name)
        if raw is None:
            return None
        text = str(raw).strip() if name != "password" else str(raw)
        return text or None


@dataclass(frozen=True)
class ConnectionForm:
    """One system's connection type: the form and how a Connection becomes `SourceSettings`."""

    system: str
    conn_type: str
    label: str
    description: str = ""
    credentials: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)
    hidden: tuple[str, ...] = ()
    relabel: Mapping[str, str] = field(default_factory=dict)
    placeholders: Mapping[str, str] = field(default_factory=dict)

    # ---- Connection -> settings
    def credentials_from(self, conn: ConnFields) -> dict[str, str]:
        """The connector's credentials, one name each; `ConnectionFieldsError` names a missing
        one by the form's label (``API key``) and the Connection."""
        out: dict[str, str] = {}
        missing: list[str] = []
        for name, source in self.credentials.items():
            value = conn.value(source)
            if value is None and conn.conn_type != self.conn_type:
                value = conn.value(name) if name not in STANDARD else None  # older extras
            if value is None:
                missing.append(self.label_of(source))
            else:
                out[name] = value
        if missing:
            where = f"Airflow Connection {conn.conn_id!r}" if conn.conn_id else "the connection"
            raise ConnectionFieldsError(f"{self.system}: {where} has no {' and no '.join(missing)}")
        return out

    def options_from(self, conn: ConnFields) -> dict[str, Any]:
        """Connector options the Connection carries (``database`` from the schema field...); a
        ``json`` field's value is parsed (`ConnectionFieldsError` names the field otherwise)."""
        out: dict[str, Any] = {}
        for option, source in self.options.items():
            if source == "schema" and conn.conn_type != self.conn_type:
                continue  # an older http Connection's schema is the URL scheme
            spec = self.fields.get(source)
            raw = conn.extra.get(source) if spec is not None and spec.json else None
            if isinstance(raw, dict):  # already an object in the extra
                out[option] = raw
                continue
            value = conn.value(source)
            if value is None:
                continue
            if spec is not None and spec.json:
                try:
                    parsed = json.loads(value)
                except ValueError:
                    parsed = None
                if not isinstance(parsed, dict):
                    raise ConnectionFieldsError(
                        f"{self.system}: {spec.label}: must be a JSON object, got {value[:80]!r}"
                    )
                out[option] = parsed
            else:
                out[option] = value
        return out

    def label_of(self, name: str) -> str:
        """The label the form shows for a field."""
        if name in self.fields:
            return self.fields[name].label
        return self.relabel.get(name, name.capitalize())

    def secret_fields(self) -> tuple[str, ...]:
        return ("password", *(n for n, f in self.fields.items() if f.secret))


def _fail(path: Path, key: str, msg: str) -> FormError:
    return FormError(f"{path.parent.name}/{path.name}: {key}: {msg}")


def _str_map(path: Path, data: dict, key: str) -> dict[str, str]:
    value = data.get(key) or {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _fail(path, key, "must map names to strings")
    return dict(value)


def parse_form(system: str, path: Path) -> ConnectionForm:
    """Read and check one ``connection.yaml``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FormError(f"{system}/{path.name}: cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise FormError(f"{system}/{path.name}: must be a mapping")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise _fail(path, unknown[0], f"unknown key (allowed: {', '.join(sorted(_TOP_KEYS))})")
    conn_type = data.get("conn_type")
    if conn_type != f"millwright_{system}":
        raise _fail(path, "conn_type", f"must be 'millwright_{system}', got {conn_type!r}")
    label = data.get("label")
    if not isinstance(label, str) or not label.strip():
        raise _fail(path, "label", "required (the form's name for the connection type)")
    fields: dict[str, FieldSpec] = {}
    raw_fields = data.get("fields") or {}
    if not isinstance(raw_fields, dict):
        raise _fail(path, "fields", "must map field names to their description")
    for name, spec in raw_fields.items():
        key = f"fields.{name}"
        if name in HIDEABLE or not str(name).isidentifier():
            raise _fail(
                path, key, "an extra field needs an identifier that is not a standard field"
            )
        if not isinstance(spec, dict) or not isinstance(spec.get("label"), str):
            raise _fail(path, key, "needs a label")
        bad = sorted(set(spec) - _FIELD_KEYS)
        if bad:
            raise _fail(
                path, f"{key}.{bad[0]}", f"unknown (allowed: {', '.join(sorted(_FIELD_KEYS))})"
            )
        fields[name] = FieldSpec(
            name, spec["label"], str(spec.get("description") or ""),
            str(spec.get("placeholder") or ""), bool(spec.get("secret", False)),
            bool(spec.get("required", False)), bool(spec.get("json", False)),
        )  # fmt: skip
    known = set(STANDARD) | set(fields)
    credentials = _str_map(path, data, "credentials")
    options = _str_map(path, data, "options")
    for key, mapping in (("credentials", credentials), ("options", options)):
        for name, source in mapping.items():
            if source not in known:
                raise _fail(path, f"{key}.{name}", f"{source!r} is neither a standard field "
                            f"({', '.join(STANDARD)}) nor a declared field")  # fmt: skip
    hidden = data.get("hidden") or []
    if not isinstance(hidden, list) or any(h not in HIDEABLE for h in hidden):
        raise _fail(path, "hidden", f"a list of standard fields ({', '.join(HIDEABLE)})")
    used = {"host", *credentials.values(), *options.values()}
    if used & set(hidden):
        raise _fail(path, "hidden", f"hides {sorted(used & set(hidden))[0]!r}, which is read")
    relabel = _str_map(path, data, "relabel")
    placeholders = _str_map(path, data, "placeholders")
    for key, mapping in (("relabel", relabel), ("placeholders", placeholders)):
        bad = sorted(
            set(mapping) - set(HIDEABLE) - (set(fields) if key == "placeholders" else set())
        )
        if bad:
            raise _fail(path, f"{key}.{bad[0]}", "not a field of the form")
    return ConnectionForm(
        system=system, conn_type=conn_type, label=label.strip(),
        description=str(data.get("description") or "").strip(), credentials=credentials,
        options=options, fields=fields, hidden=tuple(hidden), relabel=relabel,
        placeholders=placeholders,
    )  # fmt: skip


@functools.cache
def form(system: str) -> ConnectionForm:
    """The system's form (``connectors/<system>/connection.yaml``); `FormError` when it is
    missing or wrong. Reads the file only: importing the connector is not needed."""
    path = _ROOT / system / FILE_NAME
    if not path.is_file():
        raise FormError(
            f"{system}: no {FILE_NAME} in its connector folder (see connectors/connection.py)"
        )
    return parse_form(system, path)


def forms(strict: bool = True) -> list[ConnectionForm]:
    """Every system's form, by system name. ``strict=False`` (Airflow's provider discovery and
    the hooks, which every Airflow process loads) leaves out a folder whose form is missing or
    wrong, with a warning naming it, instead of failing for every system; the tests are strict."""
    from connectors.registry import systems

    out = []
    for system in systems():
        try:
            out.append(form(system))
        except FormError as exc:
            if strict:
                raise
            log.warning("connection type of %s left out: %s", system, exc)
    return out


def form_for_conn_type(conn_type: str) -> ConnectionForm | None:
    return next((f for f in forms(strict=False) if f.conn_type == conn_type), None)


# ---------------------------------------------------------------- Connection -> settings


def base_url(conn: ConnFields) -> str:
    """Base URL from host (with or without a scheme), schema (``http``/``https`` on an older
    ``http`` Connection) and port."""
    host = (conn.host or "").strip().rstrip("/")
    if not host:
        where = f"Airflow Connection {conn.conn_id!r}" if conn.conn_id else "the connection"
        raise ConnectionFieldsError(f"{where} has no host")
    if "://" not in host:
        scheme = conn.schema if conn.schema in ("http", "https") else "http"
        host = f"{scheme}://{host}"
    parts = urlsplit(host)
    if conn.port and parts.port is None:
        parts = parts._replace(netloc=f"{parts.netloc}:{conn.port}")
    return urlunsplit(parts)


def settings_from(
    system: str,
    conn: ConnFields,
    *,
    connection_id: str,
    timezone: ZoneInfo,
    page_size: int = 1000,
    options: Mapping[str, Any] | None = None,
) -> SourceSettings:
    """The connector's settings from a Connection by the system's form: the base URL, its
    credentials (one name each) and options (the connection config's ``options`` win over what
    the Connection carries)."""
    f = form(system)
    return SourceSettings(
        connection_id=connection_id,
        host=base_url(conn),
        credentials=f.credentials_from(conn),
        timezone=timezone,
        page_size=page_size,
        options={**f.options_from(conn), **dict(options or {})},
    )


# ---------------------------------------------------------------- the connection test


def plain_reason(system: str, exc: BaseException) -> str:
    """A failed check as one plain sentence: what the source said, without URLs' query strings
    (`SourceError` names paths only) and without a traceback."""
    if isinstance(exc, SourceError):
        if exc.status in (401, 403):
            head = f"{system} refused the credentials (HTTP {exc.status})"
        elif isinstance(exc.status, str) and exc.status in ("ConnectionError", "Timeout",
                                                             "ConnectTimeout", "ReadTimeout"):  # fmt: skip
            head = f"{system} could not be reached ({exc.status} at {exc.endpoint})"
        else:
            head = f"{system} answered {exc.endpoint} with status {exc.status}"
        detail = str(exc).partition(f"status {exc.status}: ")[2] if exc.status is not None else ""
        detail = re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", detail))  # an HTML error page
        detail = re.sub(r" \(gave up after \d+ retries\)$", "", detail).strip()
        return f"{head}: {detail}" if detail else head
    if isinstance(exc, ValueError | KeyError):
        text = str(exc).strip("'\"")
        return text if text.startswith(system) else f"{system}: {text}"
    return f"{system}: connection test failed: {type(exc).__name__}: {exc}"


def check(system: str, settings: SourceSettings) -> str | None:
    """Run the connector's `check()` once (no retries, a short timeout): None when the source
    accepted the credentials, else the plain reason."""
    settings = replace(settings, max_retries=0, timeout=min(settings.timeout, CHECK_TIMEOUT))
    try:
        connector_class = importlib.import_module(f"connectors.{system}").CONNECTOR
        with connector_class(settings) as connector:
            connector.check()
    except Exception as exc:  # noqa: BLE001 - every failure becomes the test's reason
        reason = plain_reason(system, exc)
        for secret in settings.credentials.values():
            if secret and len(secret) >= 3:
                reason = reason.replace(secret, "***")
        return reason
    return None
