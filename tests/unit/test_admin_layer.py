"""The admin layer's contracts: domain errors carry no HTTP status (the API maps their types in
one table), the pending-operation queue is typed and keeps its stored JSON, and the admin layer
imports `include.api` only through include/admin/tokens.py."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import include
from include.admin import errors
from include.admin.pending import OpKind, PendingOp, dump, load
from include.api.errors import DOMAIN_STATUS, domain_error, domain_status

ROOT = Path(include.__file__).parent
HTTP_ATTRS = ("status", "status_code", "http_status", "code")


def _domain_modules() -> list[str]:
    names = [
        m.name
        for m in pkgutil.walk_packages([str(ROOT)], "include.")
        if not m.name.startswith("include.api") and not m.name.endswith("__main__")
    ]
    return sorted(names)


def _exception_classes() -> list[type[BaseException]]:
    out = []
    for name in _domain_modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == name:
                out.append(cls)
    return out


def _http_attrs(cls: type[BaseException]) -> list[str]:
    """HTTP-status-like attributes of ``cls``: class attributes of its project bases,
    ``__init__`` parameters, and attributes of an instance built with one message."""
    found = [
        f"{k.__name__}.{a}"
        for k in cls.__mro__
        if k.__module__.startswith("include.")
        for a in HTTP_ATTRS
        if a in vars(k)
    ]
    params = inspect.signature(cls.__init__).parameters
    found += [f"__init__({p})" for p in params if p in HTTP_ATTRS]
    try:
        instance = cls("message")
    except (TypeError, ValueError):  # a constructor that takes no message (StoreTimeout: seconds)
        return found
    return found + [f"instance.{a}" for a in HTTP_ATTRS if a in vars(instance)]


def test_no_exception_outside_the_api_has_an_http_status() -> None:
    classes = _exception_classes()
    assert errors.LifecycleError in classes and errors.NotFound in classes  # the walk saw them
    offenders = {c.__qualname__: attrs for c in classes if (attrs := _http_attrs(c))}
    assert offenders == {}


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.LifecycleError, 400),
        (errors.NotFound, 404),
        (errors.Conflict, 409),
        (errors.OutOfCredits, 402),
        (errors.AirflowUnavailable, 503),
    ],
)
def test_the_api_maps_each_domain_error_type_to_its_status(error: type, status: int) -> None:
    exc = error("connection 'x' is wrong", "id")
    assert domain_status(exc) == status
    api = domain_error(exc)
    assert (api.status, api.message, api.errors) == (
        status, "connection 'x' is wrong", {"id": ["connection 'x' is wrong"]})  # fmt: skip


def test_every_domain_error_type_is_in_the_table() -> None:
    subclasses = set(errors.LifecycleError.__subclasses__()) | {errors.LifecycleError}
    assert subclasses <= set(DOMAIN_STATUS)


def test_a_subclass_not_listed_takes_its_nearest_listed_type() -> None:
    class Gone(errors.NotFound):
        pass

    assert domain_status(Gone("gone")) == 404


STORED = [
    {"op": "unpause"},
    {"op": "trigger", "conf": {"full": True}},
    {"op": "trigger", "conf": {"entities": ["assets"], "full": True}, "waiting": "not parsed"},
    {"op": "variable_status", "status": "disconnected"},
    {"op": "pause"},
    {"op": "variable_remove"},
    {"op": "delete_connection", "conn_id": None},
    {"op": "delete_connection", "conn_id": "millwright_x"},
    {"op": "delete_dag", "waiting": "waiting for Airflow to re-parse and mark sync__x stale"},
]


def test_pending_operations_are_typed_and_keep_their_stored_json() -> None:
    ops = load(STORED)
    assert [op.kind for op in ops][:3] == [OpKind.UNPAUSE, OpKind.TRIGGER, OpKind.TRIGGER]
    assert ops[3] == PendingOp.variable_status("disconnected")
    assert dump(ops) == STORED


def test_waiting_reason_is_cut_to_300_characters_and_replaced() -> None:
    op = PendingOp(OpKind.PAUSE).waiting_for("a" * 500).waiting_for("b" * 400)
    assert op.to_json() == {"op": "pause", "waiting": "b" * 300}


def test_an_unknown_stored_operation_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="reboot"):
        load([{"op": "reboot"}])


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_the_admin_layer_never_imports_the_api() -> None:
    importers = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "admin").rglob("*.py")
        if any(m == "include.api" or m.startswith("include.api.") for m in _imports(p))
    }
    assert importers == set()
