"""The connector contract. A connector knows its protocol and nothing of Airflow or the store.

A connector module (``connectors/<system>/__init__.py``) exposes ``CONNECTOR``, a `Connector`
subclass, and its folder holds ``connection.yaml``: the Airflow connection type's form and which
credential names the connector reads (`connectors.connection`). The pipeline asks it for the entities it supports, reads pages of raw source records for
an entity and a time window, and lists the natural keys that currently exist (for reconciliation of
hard deletes). Each entity's mapping to the unified model is data (`include.mapping.EntityMapping`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from include.mapping import EntityMapping
from include.model.source_fields import SourceField
from include.webhooks.spec import WebhookSpec

__all__ = ["ChangedWhen", "Connector", "EntitySpec", "SourceError", "SourceField",
           "SourceSettings", "WebhookRegistration", "WebhookSpec", "Window"]  # fmt: skip


class SourceError(RuntimeError):
    """A source call failed for good (after retries). The message names system, endpoint, status."""

    def __init__(self, system: str, endpoint: str, status: int | str | None, detail: str = ""):
        self.system, self.endpoint, self.status = system, endpoint, status
        msg = f"{system}: {endpoint} failed"
        if status is not None:
            msg += f" with status {status}"
        if detail:
            msg += f": {detail}"
        super().__init__(msg)


@dataclass(frozen=True)
class Window:
    """A half-open extraction window [start, end) in UTC. ``start=None`` means a full read."""

    start: datetime | None = None
    end: datetime | None = None

    @property
    def is_full(self) -> bool:
        return self.start is None


@dataclass(frozen=True)
class ChangedWhen:
    """When a record of an entity counts as changed (declared per entity, see docs/ARCHITECTURE.md).

    Its own change time (the mapping's ``version``), or the latest of that and the change times of
    related records whose values it serves:

    - ``related``: source paths, in the raw records the connector yields, of those related change
      times: ``"template_rel.write_date"``, ``"lines.last_modified_at"`` (a path through a list
      takes every item). The mapping's ``updatedAt`` and version become the latest of all, so the
      store's newer-version rule lets the change in and ``modified_after`` / cursor paging see it.
      The connector's incremental read must select a record when any of them falls in the window
      (an OR over the related times, or a second query for the related changes).
    - ``untracked``: served fields whose changes the source cannot date at all (computed values).
      An incremental read cannot see them: the entity is re-read in full every
      ``full_read_every`` of the connection (`include.sync.pipeline.plan_window`), and its loads let
      the store date a change of served values the source did not (``updatedAt`` becomes the time
      of the write: `include.store.Store.load_batch(stamp_changes=True)`).
    - ``note``: how the connector finds the related changes (for docs and logs).
    """

    related: tuple[str, ...] = ()
    untracked: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class EntitySpec:
    """What a connector can do for one unified entity."""

    name: str  # unified entity, e.g. "work-orders"
    mapping: EntityMapping
    incremental: bool = True  # False: the source has no change time; every run is a full snapshot
    reconcile: bool = True  # whether a key listing for hard-delete reconciliation is supported
    options: Mapping[str, Any] = field(default_factory=dict)  # connector-specific (endpoint, ...)
    changed_when: ChangedWhen = field(default_factory=ChangedWhen)

    def __post_init__(self) -> None:
        related = self.changed_when.related
        if related and self.mapping.changed_with != related:
            if not (self.mapping.version and self.mapping.version_is_time):
                raise ValueError(
                    f"{self.name}: changed_when.related needs a mapping whose version is a time"
                )
            object.__setattr__(self, "mapping", replace(self.mapping, changed_with=related))


@dataclass(frozen=True)
class WebhookRegistration:
    """Webhook subscriptions made at a source: their ids and the secrets that sign them."""

    ids: tuple[str, ...]
    secrets: tuple[str, ...] = field(repr=False)


@dataclass(frozen=True)
class SourceSettings:
    """Everything a connector needs to talk to one source instance.

    ``host`` and ``credentials`` come from the connection's Airflow Connection; ``options`` from
    the connection config (`include.config.ConnectionConfig.options`).
    """

    connection_id: str
    host: str  # base URL, e.g. http://127.0.0.1:8801
    credentials: Mapping[str, str]  # e.g. {"apikey": ...}; never logged
    timezone: ZoneInfo
    page_size: int = 1000
    options: Mapping[str, Any] = field(default_factory=dict)
    timeout: float = 30.0
    max_retries: int = 5
    # source paths of the connection's custom fields, per entity (a child entity's under its
    # own name, ``purchase-orders.line-items``): the connector requests them from the source
    custom_paths: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class Connector(ABC):
    """Base class for connectors; one instance talks to one source instance."""

    system: ClassVar[str]
    entities: ClassVar[Mapping[str, EntitySpec]]
    # {entity: {raw status: statusCategory}}: the system's default category of each raw status
    # (categories: include.model.STATUS_CATEGORIES; a connection's config may override them)
    status_categories: ClassVar[Mapping[str, Mapping[str, str]]] = {}
    # {Makini resource: why the system has no such concept} (the coverage matrix, docs/API.md)
    no_concept: ClassVar[Mapping[str, str]] = {}
    # {Makini resource: why it is not mapped yet} for a concept the system has (same matrix)
    not_yet: ClassVar[Mapping[str, str]] = {}
    # how the system's webhooks are verified and what their events name (None: no webhooks)
    webhooks: ClassVar[WebhookSpec | None] = None

    def __init__(self, settings: SourceSettings) -> None:
        self.settings = settings

    @abstractmethod
    def read(self, entity: str, window: Window) -> Iterator[list[dict[str, Any]]]:
        """Yield pages of raw source records changed within ``window`` (all when ``window.is_full``),
        ordered by change time then key where the source allows it."""

    def read_keys(self, entity: str) -> Iterator[list[dict[str, Any]]]:
        """Yield pages of raw records holding at least the natural-key fields of every record that
        exists now. Default: a full read."""
        yield from self.read(entity, Window())

    def describe(self, entity: str) -> list[SourceField]:
        """What the source offers for ``entity``, from its own metadata (every attribute, not
        only the mapped ones; child objects and navigation properties with their fields)."""
        raise NotImplementedError(f"{self.system}: describe() is not implemented")

    @classmethod
    def raw_path(cls, entity: str, path: str) -> str:
        """Where a custom field's source path (as the source names it) is in the raw records
        this connector yields. Default: the same path."""
        return path

    def requested(self, entity: str) -> tuple[str, ...]:
        """The custom fields' source paths to request for ``entity`` (its children's too,
        prefixed with the path of the child list in the raw record)."""
        paths = list(self.settings.custom_paths.get(entity, ()))
        spec = self.entities.get(entity)
        for child, (list_path, _) in (spec.mapping.children if spec else {}).items():
            paths += [f"{list_path}.{p}" for p in self.settings.custom_paths.get(child, ())]
        return tuple(dict.fromkeys(paths))

    def read_records(self, entity: str, remote_ids: list[str]) -> Iterator[list[dict[str, Any]]]:
        """Yield pages of the current raw records with these source ids, as `read` yields them
        (the apply step of webhooks re-reads what an event names). An id the source no longer
        has is simply absent. Default: not supported."""
        raise NotImplementedError(f"{self.system} cannot re-read {entity} records by id")

    def read_records_by_key(
        self, entity: str, keys: list[dict[str, str]]
    ) -> Iterator[list[dict[str, Any]]]:
        """Like `read_records`, for records named by their natural key (``{field: value}`` of
        the entity's key fields: a Maximo publish channel's message carries the record, not a
        subscription's id). A key the source no longer has is absent. Default: not supported."""
        raise NotImplementedError(f"{self.system} cannot re-read {entity} records by key")

    def register_webhooks(self, url: str) -> WebhookRegistration:
        """Subscribe ``url`` to the system's webhooks (``webhooks.event_types``); returns the
        subscription ids and the secrets that sign the deliveries. Default: not supported."""
        raise NotImplementedError(f"{self.system} has no webhook subscription API")

    def remove_webhooks(self, ids: tuple[str, ...]) -> None:
        """Remove subscriptions made by `register_webhooks` (an id already gone is fine)."""
        raise NotImplementedError(f"{self.system} has no webhook subscription API")

    def statuses(self, entity: str) -> list[dict[str, Any]] | None:
        """The source's status list for an entity (`Status` rows), or None if it has none."""
        return None

    def check(self) -> None:
        """Make one cheap authenticated call to the source (a connection test).

        Returns when the source accepted the credentials and answered; raises `SourceError`
        (status 401/403 when it refused the credentials, the source's own message as detail) or
        `ValueError` (a setting or credential missing). `connectors.connection.check` turns that
        into a plain reason. Default: the first page of the first entity's key listing; a
        connector overrides it with something cheaper where the protocol has it.
        """
        entity = next(iter(self.entities))
        pages = self.read_keys(entity)
        try:
            next(pages, None)
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release sessions and sockets."""

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
