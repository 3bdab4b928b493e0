"""Millwright as an Airflow provider: ``get_provider_info()``, the ``apache_airflow_provider``
entry point (pyproject.toml), declares one connection type per source system.

Generated from the connector registry: each ``connectors/<system>/connection.yaml`` gives its
connection type (``millwright_<system>``), its hook class (`include.airflow.hooks`), its extra
fields (``conn-fields``) and which standard fields are hidden, relabelled and what they hint
(``ui-field-behaviour``): the declarative form Airflow 3.2+ reads without importing the hook
(the hook methods ``get_connection_form_widgets`` / ``get_ui_field_behaviour`` are deprecated).

Every Airflow process calls this at provider discovery: it reads the YAML files only, imports
neither Airflow nor a connector. The ``package-name`` must be the installed distribution's name
(``millwright``), or Airflow refuses the provider.
"""

from __future__ import annotations

from typing import Any

from connectors.connection import ConnectionForm, forms

PACKAGE_NAME = "millwright"
HOOKS_MODULE = "include.airflow.hooks"


def class_name(system: str) -> str:
    """``maximo`` -> ``MillwrightMaximoHook``, ``sap_s4hana`` -> ``MillwrightSapS4hanaHook``."""
    return "Millwright" + "".join(p.capitalize() for p in system.split("_")) + "Hook"


def conn_fields(f: ConnectionForm) -> dict[str, Any]:
    """The form's extra fields as Airflow's ``conn-fields`` (a JSON-schema per field)."""
    out: dict[str, Any] = {}
    for name, spec in f.fields.items():
        schema: dict[str, Any] = {"type": ["string"] if spec.required else ["string", "null"]}
        if spec.secret:
            schema["format"] = "password"
        entry: dict[str, Any] = {"label": spec.label, "schema": schema}
        if spec.description:
            entry["description"] = spec.description
        out[name] = entry
    return out


def ui_field_behaviour(f: ConnectionForm) -> dict[str, Any]:
    placeholders = dict(f.placeholders)
    for name, spec in f.fields.items():
        if spec.placeholder:
            placeholders.setdefault(name, spec.placeholder)
    return {
        "hidden-fields": list(f.hidden),
        "relabeling": dict(f.relabel),
        "placeholders": placeholders,
    }


def connection_type(f: ConnectionForm) -> dict[str, Any]:
    return {
        "connection-type": f.conn_type,
        "hook-class-name": f"{HOOKS_MODULE}.{class_name(f.system)}",
        "hook-name": f.label,
        "conn-fields": conn_fields(f),
        "ui-field-behaviour": ui_field_behaviour(f),
    }


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": PACKAGE_NAME,
        "name": "Millwright",
        "description": "Millwright source systems: one connection type and hook per system.",
        "connection-types": [connection_type(f) for f in forms(strict=False)],
    }
