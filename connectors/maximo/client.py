"""IBM Maximo Manage: the Python the manifest cannot say (see README.md, "Where Python is needed").

manifest.yaml describes the protocol: ``apikey`` header, ``lean=1``, ``stablepaging=1``,
``oslc.select`` (requested fields), ``oslc.orderBy=+changedate,+<key>...``, ``oslc.pageSize``, the
window as an ``oslc.where`` expression on the change time in the connection's zone with its offset,
following ``responseInfo.nextPage.href``. This subclass adds only:

- connection options that move things: ``api_root`` (default ``/maximo/api``), ``object_structures``
  ({entity: OS name} overrides), ``naive_times`` (windows as naive local time);
- ``statuses``: Maximo's status lists are synonym domains (``MXAPIDOMAIN``), one query per domain;
- ``where`` (the rendered ``oslc.where``, for logs and tests) and ``count`` (``count=1``);
- webhooks: publish channel messages (``publish.py``), re-read by natural key.

Other options: ``max_page_size`` (the server's ``mxe.oslc.maxpagesize``, default 1000),
``retry_base_delay`` / ``retry_max_sleep`` (seconds, for the shared retry client).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from connectors.base import EntitySpec, SourceField, SourceSettings, Window
from connectors.kit import ManifestConnector, Request, load_manifest
from connectors.kit.engine import window_expression
from connectors.maximo import publish
from connectors.maximo.mapping import ENTITIES, NO_CONCEPT, STATUS_CATEGORIES
from include.model.keys import make_key

SYSTEM = "maximo"
STATUS_DOMAINS = {
    "work-orders": "WOSTATUS", "purchase-orders": "POSTATUS", "service-requests": "SRSTATUS",
    "return-orders": "RECEIPTSTATUS",
}  # fmt: skip
# DOCLINKS names its owner by table and unique id (``ownerid``); the entity whose remote id that
# is, so the documents' ``entityKeys`` are the owners' unified keys
DOC_OWNERS = {
    "WORKORDER": "work-orders", "ASSET": "assets", "LOCATIONS": "locations", "PM": "pm",
    "PO": "purchase-orders", "ITEM": "materials", "SR": "service-requests",
    "COMPANIES": "companies",
}  # fmt: skip
# entities whose rows client.py derives from other records: what their reads are ordered by
ORDER_BY = {"pm.materials": ("orgid", "jpnum")}
JOBPLANS_PER_REQUEST = 50  # job plans named in one PM query (``jpnum in [..]``)
_QUOTABLE = re.compile(r'[^"\\\x00-\x1f]{1,200}')
# the entity whose re-read by id is being built: its fixed ``oslc.where`` is added afterwards
_BY_ID: ContextVar[str | None] = ContextVar("maximo_by_id", default=None)
MANIFEST = load_manifest(Path(__file__).with_name("manifest.yaml"))


class MaximoConnector(ManifestConnector):
    """Reads Maximo object structures as pages of lean JSON records."""

    manifest = MANIFEST
    system = SYSTEM
    entities = ENTITIES
    status_categories = STATUS_CATEGORIES
    no_concept = NO_CONCEPT
    # publish channels posting to the receiver (publish.py): static secret, records by key
    webhooks = publish.webhook_spec({n: tuple(e.key) for n, e in MANIFEST.entities.items()})

    def __init__(self, settings: SourceSettings, sleep: Callable[[float], None] = time.sleep):
        opts = settings.options
        self.api_root = str(opts.get("api_root", MANIFEST.base_path)).rstrip("/")
        self.os_names: dict[str, str] = dict(opts.get("object_structures", {}))
        super().__init__(settings, sleep)
        if opts.get("naive_times"):
            self.time_format = "iso_naive"

    # --- hooks ---------------------------------------------------------------------------------
    def base_path(self) -> str:
        return self.api_root

    def path(self, entity: str) -> str:
        os = self.os_names.get(entity)
        return f"/os/{os.lower()}" if os else MANIFEST.entity(entity).path

    def requested_fields(self, entity: str) -> list[str]:
        """The manifest's ``oslc.select`` plus the custom fields' paths: an attribute as is, a
        child object's attributes as ``child{a,b}`` (a child the manifest selects whole,
        ``poline{*}``, already has them)."""
        base = list(MANIFEST.entity(entity).fields)
        heads = {f.split("{", 1)[0] for f in base}
        plain: list[str] = []
        nested: dict[str, list[str]] = {}
        for path in self.extra_fields(entity):  # custom paths (+ option requested_fields)
            head, dot, rest = path.partition(".")
            if not dot:
                plain.append(head)
            elif head not in heads:
                nested.setdefault(head, []).append(rest.split(".", 1)[0])
        extra = [a for a in dict.fromkeys(plain) if a not in heads]
        extra += [f"{h}{{{','.join(dict.fromkeys(attrs))}}}" for h, attrs in nested.items()]
        return base + extra

    def describe(self, entity: str) -> list[SourceField]:
        """The object structure's JSON schema (``/jsonschemas/<os>?oslc.select=*``): every
        attribute (type = Maximo's ``subType``, label = its ``title``) and the child objects
        with theirs."""
        os = self.path(entity).rsplit("/", 1)[-1]
        schema = self.http.get_json(f"/jsonschemas/{os}", params={"oslc.select": "*"})
        return _schema_fields(schema.get("properties") or {})

    def read_records_by_key(self, entity: str, keys: list[dict[str, str]]) -> Any:
        """Re-read the records a publish channel's message named (`publish.read_by_key`)."""
        return publish.read_by_key(self, entity, keys)

    def build_request(self, entity: str, window: Window, keys_only: bool = False) -> Request:
        """The kit's request, with an entity's own ``oslc.where`` (``downtime>0``,
        ``issuetype="RETURN"``) ANDed with the window's instead of replaced by it, and the order
        of entities derived by a transform (``ORDER_BY``)."""
        req = super().build_request(entity, window, keys_only)
        fixed = MANIFEST.entity(entity).params.get("oslc.where")
        params = dict(req.params)
        if fixed and _BY_ID.get() == entity:
            del params["oslc.where"]  # id_request adds it to the ids' clause
        elif fixed and params.get("oslc.where") != fixed:
            params["oslc.where"] = f"{fixed} and {params['oslc.where']}"
        if entity in ORDER_BY:
            params["oslc.orderBy"] = ",".join(f"+{a}" for a in ORDER_BY[entity])
            if keys_only:
                params["oslc.select"] = ",".join(ORDER_BY[entity])
        return Request(req.url, params, req.method, req.json, req.headers)

    def id_request(self, entity: str, ids: list[str]) -> Request:
        """The kit's re-read by id; an entity's own ``oslc.where`` (vendors' ``type="V"``,
        storerooms' ``type="STOREROOM"``...) is ANDed with the ids' clause, so a re-read lists
        only records the entity's reads list."""
        fixed = MANIFEST.entity(entity).params.get("oslc.where")
        if not fixed:
            return super().id_request(entity, ids)
        token = _BY_ID.set(entity)
        try:
            req = super().id_request(entity, ids)
        finally:
            _BY_ID.reset(token)
        params = {**req.params, "oslc.where": f"{fixed} and {req.params['oslc.where']}"}
        return Request(req.url, params, req.method, req.json, req.headers)

    # --- transforms (manifest ``transform``) -----------------------------------------------------
    def resolve_owners(self, entity: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Documents: the owner's unified key as ``_ownerkey``, from the owners re-read by their
        unique ids (one ``oslc.where=<id> in [..]`` request per owner table and page)."""
        wanted: dict[str, set[str]] = {}
        for r in rows:
            owner = DOC_OWNERS.get(str(r.get("ownertable") or ""))
            if owner and owner in self.entities and r.get("ownerid") is not None:
                wanted.setdefault(owner, set()).add(str(r["ownerid"]))
        keys: dict[tuple[str, str], str] = {}
        for owner, ids in wanted.items():
            mapping = self.entities[owner].mapping
            for page in self.read_records(owner, sorted(ids, key=int)):
                for rec in page:
                    key = make_key([rec.get(a) for a in mapping.key])
                    if key:
                        keys[owner, str(rec.get(mapping.remote_id))] = key
        for r in rows:
            owner = DOC_OWNERS.get(str(r.get("ownertable") or ""))
            r["_ownerkey"] = keys.get((owner, str(r.get("ownerid")))) if owner else None
        return rows

    def job_plan_materials_per_pm(self, entity: str, rows: list[dict[str, Any]]) -> list[dict]:
        """PM materials: Maximo plans a PM's materials on its job plan (JOBMATERIAL of
        ``PM.jpnum``); each job plan material becomes one row per PM of that job plan (same
        organization), keyed (siteid, pmnum, jobmaterialid). The PMs are read once per page."""
        plans = {(r.get("orgid"), r.get("jpnum")): r.get("jobmaterial") or [] for r in rows}
        # a job plan number that cannot be quoted in oslc.where is left out (its PMs list none)
        names = sorted({jp for _, jp in plans if jp and _QUOTABLE.fullmatch(str(jp))})
        out = []
        for i in range(0, len(names), JOBPLANS_PER_REQUEST):  # a URL of bounded length
            batch = names[i : i + JOBPLANS_PER_REQUEST]
            req = Request(self.path("pm"), {
                "lean": "1", "oslc.select": "pmnum,siteid,orgid,jpnum",
                "oslc.where": "jpnum in [" + ",".join(f'"{jp}"' for jp in batch) + "]",
                "oslc.orderBy": "+siteid,+pmnum",
            })  # fmt: skip
            for page in self.pages("pm", req):
                for pm in page:
                    for m in plans.get((pm.get("orgid"), pm.get("jpnum")), ()):
                        out.append({**m, "jpnum": pm.get("jpnum"), "siteid": pm.get("siteid"),
                                    "pmnum": pm.get("pmnum"), "orgid": pm.get("orgid")})  # fmt: skip
        return out

    # --- Maximo only ---------------------------------------------------------------------------
    def spec(self, entity: str) -> EntitySpec:
        try:
            return self.entities[entity]
        except KeyError:
            known = ", ".join(sorted(self.entities))
            raise KeyError(f"maximo: unknown entity {entity!r}; supported: {known}") from None

    def where(self, entity: str, window: Window) -> str | None:
        """The ``oslc.where`` a read of ``window`` sends (None for a full read or a snapshot)."""
        e = MANIFEST.entity(entity)
        fixed = e.params.get("oslc.where")
        if not e.change_time or MANIFEST.incremental is None:
            return str(fixed) if fixed else None
        expr = window_expression(MANIFEST.incremental, e.change_time, window, self.time_format,
                                 self.settings.timezone)  # fmt: skip
        return f"{fixed} and {expr}" if fixed and expr else (expr or fixed)

    def statuses(self, entity: str) -> list[dict[str, Any]] | None:
        domain = STATUS_DOMAINS.get(entity)
        if domain is None:
            return None
        params = {
            "lean": "1",
            "oslc.select": "domainid,synonymdomain{value,maxvalue,description,defaults}",
            "oslc.where": f'domainid="{domain}"',
        }
        os = self.os_names.get("domains", "mxapidomain").lower()
        rows: list[dict[str, Any]] = []
        for page in self.pages(entity, Request(f"/os/{os}", params), page_size=10):
            for dom in page:
                for v in dom.get("synonymdomain") or []:
                    key = make_key([v.get("value")])
                    if key:
                        rows.append({
                            "key": key, "name": v.get("description"), "code": v.get("value"),
                            "subCode": v.get("maxvalue"), "scope": domain, "isActive": True,
                        })  # fmt: skip
        return rows or None

    def check(self) -> None:
        """One cheap authenticated call: the work orders' ``count=1``."""
        self.count("work-orders")

    def count(self, entity: str) -> int:
        """How many records the entity has now (``count=1``)."""
        path = self.path(entity)
        body = self.http.get_json(path, params={"count": "1", "lean": "1"})
        total = body.get("totalCount")
        if not isinstance(total, int) or total < 0:
            raise ValueError(f"maximo: {self.api_root}{path} answered no totalCount")
        return total


def _schema_fields(props: dict[str, Any]) -> list[SourceField]:
    out = []
    for name, p in props.items():
        if not isinstance(p, dict) or name.startswith("_") or name == "href":
            continue
        items = p.get("items") if p.get("type") == "array" else p
        inner = items.get("properties") if isinstance(items, dict) else None
        if p.get("type") in ("array", "object") and isinstance(inner, dict):
            out.append(SourceField(name, "object", p.get("title") or p.get("objectName"),
                                   children=tuple(_schema_fields(inner)),
                                   many=p.get("type") == "array"))  # fmt: skip
        else:
            out.append(SourceField(name, str(p.get("subType") or p.get("type") or ""),
                                   p.get("title")))  # fmt: skip
    return out
