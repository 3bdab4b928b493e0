"""Maximo publish channels as webhooks: the messages a publish channel posts to an HTTP endpoint,
read into the records they name (`PublishChannel`), and the re-read of those records by their
natural key (`read_by_key`). docs/WEBHOOKS.md ("Maximo publish channels") and README.md say what
is modelled and what is assumed.

What a publish channel sends (Maximo's integration framework, "Integration XML"): the root
element is the operation and the object structure's name (``PublishMXWO``; attributes
``creationDateTime``, ``messageID``, ``maximoVersion``, ``event``, ``transLanguage``...; namespace
``http://www.ibm.com/maximo``), holding ``<OS>Set`` (``MXWOSet``), holding one element per record
named after the structure's main object (``WORKORDER``) with an ``action`` attribute (``Add``,
``Change``, ``Replace``, ``Delete``...) and one child element per attribute (``<WONUM>``,
``<SITEID>``; child objects as nested elements)::

    <PublishMXWO xmlns="http://www.ibm.com/maximo" creationDateTime="..." messageID="...">
      <MXWOSet><WORKORDER action="Replace"><WONUM>1001</WONUM><SITEID>BEDFORD</SITEID>...

JSON (an endpoint or exit that hands the message out as JSON) mirrors that tree: the root name as
the single top-level key, the set, the main object's record (one object or a list); each record's
attributes directly or, as Maximo's JSON form of integration messages writes them, under
``"Attributes"`` with ``{"content": value}`` per attribute::

    {"PublishMXWO": {"MXWOSet": {"WORKORDER": [{"Attributes": {"WONUM": {"content": "1001"},
                                                               "SITEID": {"content": "BEDFORD"}}}]}}}

A record is named by the main object (which unified entities it feeds, `MAIN_OBJECTS`) and the
values of that entity's key fields (the manifest's ``key``: ``siteid`` + ``wonum``). The message's
data is never stored as is: the apply step re-reads the records (`read_by_key`), so an old message
cannot overwrite newer data and a deleted record (``action="Delete"``, or gone by now) is
soft-deleted.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from connectors.base import Window
from connectors.kit import Request
from include.webhooks.spec import GENERIC_ENTITY_FIELD, EventTarget, WebhookSpec

# The main object (the record element's name) -> the unified entities read from it. Any object
# structure (predefined MXWO, MXASSET... or a custom one) over these objects is understood.
MAIN_OBJECTS: dict[str, tuple[str, ...]] = {
    "WORKORDER": ("work-orders",), "ASSET": ("assets",), "LOCATIONS": ("locations", "storerooms"),
    "SITE": ("sites",), "ORGANIZATION": ("organizations",), "PM": ("pm",), "ITEM": ("materials",),
    "INVENTORY": ("stocks", "inventories"), "PO": ("purchase-orders",),
    "COMPANIES": ("vendors", "companies"), "PERSON": ("users",), "PERSONGROUP": ("teams",),
    "ASSETMETER": ("meters",), "METERREADING": ("meter-readings",), "SR": ("service-requests",),
    "LABOR": ("labors",), "CHARTOFACCOUNTS": ("accounts",), "MEASUREUNIT": ("uom",),
    "ASSETTEMPLATE": ("asset-templates",), "TEMPLATESPAREPART": ("asset-templates.materials",),
    "SPAREPART": ("assets.materials",), "ASSETSTATUS": ("assets-downtime",),
    "DOCLINKS": ("documents",), "ITEMSTRUCT": ("materials.children",),
    "MATRECTRANS": ("return-orders",), "WPMATERIAL": ("work-orders.materials",),
}  # fmt: skip
# entities no message names by their key: rows derived from another record (a job plan's
# materials become one row per PM of the plan); the scheduled sync keeps them
NOT_PUBLISHED = {"pm.materials": "derived from job plans (JOBMATERIAL) per PM"}
# key fields Maximo compares as numbers (unquoted in oslc.where); the others are quoted strings
NUMERIC_KEYS = frozenset({"meterreadingid", "assetstatusid", "doclinksid", "itemstructid",
                          "matrectransid", "wpitemid", "jobmaterialid"})  # fmt: skip
MAX_KEYS_PER_READ = 100
_SAFE_VALUE = re.compile(r"[^\"\\\x00-\x1f]{1,254}")


class PublishChannel:
    """`include.webhooks.spec.BodyParser` for Maximo: ``keys`` is each entity's key fields (the
    manifest's); entities missing from it are not read by this connector and are skipped."""

    def __init__(self, keys: Mapping[str, tuple[str, ...]]) -> None:
        self.keys = dict(keys)

    def __call__(self, text: str, content_type: str | None) -> list[EventTarget] | None:
        kind = _kind(text, content_type)
        if kind == "xml":
            root, records = _xml_records(text)
        else:
            try:
                doc = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                raise ValueError(f"the body is not JSON ({exc})") from None
            if isinstance(doc, dict) and GENERIC_ENTITY_FIELD in doc:
                return None  # the generic {"entity", "id"} shape (an exit or script made it)
            root, records = _json_records(doc)
        out: list[EventTarget] = []
        for n, (obj, fields) in enumerate(records, 1):
            entities = MAIN_OBJECTS.get(obj.upper())
            if entities is None:
                known = ", ".join(sorted(MAIN_OBJECTS))
                raise ValueError(f"{root}: record {n} is a {obj}, not an object Millwright "
                                 f"reads from Maximo ({known})")  # fmt: skip
            for entity in entities:
                fields_of = self.keys.get(entity)
                if fields_of is None:
                    continue
                key = []
                for f in fields_of:
                    value = fields.get(f)
                    if value is None or value == "":
                        raise ValueError(f"{root}: {obj} record {n} has no {f.upper()} (a key "
                                         f"field of {entity})")  # fmt: skip
                    key.append((f, value))
                out.append(EventTarget(entity, "", tuple(key)))
        return out


def _kind(text: str, content_type: str | None) -> str:
    ct = (content_type or "").split(";", 1)[0].strip().lower()
    if ct.endswith("xml"):  # application/xml, text/xml
        return "xml"
    if ct.endswith("json"):
        return "json"
    head = text.lstrip("\ufeff \t\r\n")[:1]
    if head == "<":
        return "xml"
    if head in ("{", "["):
        return "json"
    raise ValueError("the body is neither XML nor JSON (a Maximo publish channel sends one)")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_records(text: str) -> tuple[str, list[tuple[str, dict[str, str]]]]:
    if "<!DOCTYPE" in text or "<!ENTITY" in text:  # Maximo sends none; never expand entities
        raise ValueError("the XML has a DOCTYPE or ENTITY declaration, which is not accepted")
    try:
        root = ET.fromstring(text.lstrip("\ufeff"))
    except ET.ParseError as exc:
        raise ValueError(f"the XML is malformed ({exc})") from None
    name = _local(root.tag)
    sets = [c for c in root if _local(c.tag).endswith("Set")]
    if len(sets) != 1:
        raise ValueError(f"<{name}> must hold one <ObjectStructure>Set element (e.g. <MXWOSet>), "
                         f"found {len(sets)}")  # fmt: skip
    records = []
    for rec in sets[0]:
        fields = {_local(c.tag).lower(): (c.text or "").strip() for c in rec if len(c) == 0}
        records.append((_local(rec.tag), fields))
    if not records:
        raise ValueError(f"<{_local(sets[0].tag)}> holds no record")
    return name, records


def _json_records(doc: Any) -> tuple[str, list[tuple[str, dict[str, str]]]]:
    shape = '{"Publish<OS>": {"<OS>Set": {"<MAINOBJECT>": [{...}]}}} or {"entity", "id"}'
    if not isinstance(doc, dict) or len(doc) != 1:
        raise ValueError(f"a JSON body must be one Maximo publish channel message {shape}")
    ((name, body),) = doc.items()
    if not isinstance(body, dict):
        raise ValueError(f"{name}: must be an object holding <OS>Set ({shape})")
    sets = [v for k, v in body.items() if k.lower().endswith("set")]
    if len(sets) != 1 or not isinstance(sets[0], dict):
        raise ValueError(f"{name}: must hold one <OS>Set object (e.g. MXWOSet), found "
                         f"{len(sets)}")  # fmt: skip
    records = []
    for obj, value in sets[0].items():
        for rec in value if isinstance(value, list) else [value]:
            if not isinstance(rec, dict):
                raise ValueError(f"{name}: a {obj} record must be an object")
            attrs = rec.get("Attributes", rec)
            if not isinstance(attrs, dict):
                raise ValueError(f"{name}: a {obj} record's Attributes must be an object")
            records.append((obj, {k.lower(): _scalar(v) for k, v in attrs.items()}))
    if not records:
        raise ValueError(f"{name}: the set holds no record")
    return name, records


def _scalar(value: Any) -> str:
    if isinstance(value, dict):  # {"content": v} (Maximo's JSON form of an attribute)
        value = value.get("content")
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value).strip()


def webhook_spec(keys: Mapping[str, tuple[str, ...]]) -> WebhookSpec:
    """Maximo's webhooks: a static secret header (a publish channel's HTTP endpoint cannot sign;
    ``basic`` works as well), the publish channel's messages, and no subscription API (the
    endpoint and the channel are configured in Maximo)."""
    return WebhookSpec(scheme="header", parse=PublishChannel(keys))


# --- re-read by key ----------------------------------------------------------------------------


def key_where(fields: tuple[str, ...], keys: list[dict[str, str]]) -> str:
    """An ``oslc.where`` that lists at least these keys: one ``in [..]`` per key field (OSLC
    has no ``or``: a superset when keys differ in more than one field; the caller keeps the
    exact ones). Values with a quote, a backslash or a control character are refused."""
    clauses = []
    for f in fields:
        values = sorted({k[f] for k in keys})
        for v in values:
            if not _SAFE_VALUE.fullmatch(v) or (f in NUMERIC_KEYS and not v.isdigit()):
                raise ValueError(f"maximo: {f} value {v[:60]!r} cannot be queried")
        listed = values if f in NUMERIC_KEYS else [f'"{v}"' for v in values]
        clauses.append(f"{f} in [{','.join(listed)}]")
    return " and ".join(clauses)


def read_by_key(connector: Any, entity: str, keys: list[dict[str, str]]) -> Iterator[list[dict]]:
    """The current records of ``entity`` with these natural keys, in pages (the entity's usual
    request, its own ``oslc.where`` kept, plus `key_where`); a key the source no longer has is
    absent, rows of other keys are dropped."""
    fields = tuple(connector.manifest.entity(entity).key)
    for k in keys:
        missing = [f for f in fields if not k.get(f)]
        if missing:
            raise ValueError(f"maximo: a {entity} key lacks {', '.join(missing)}")
    unique = list({tuple(k[f] for f in fields): k for k in keys}.values())
    for n in range(0, len(unique), MAX_KEYS_PER_READ):
        chunk = unique[n : n + MAX_KEYS_PER_READ]
        wanted = {tuple(k[f] for f in fields) for k in chunk}
        req = connector.build_request(entity, Window())
        params = dict(req.params)
        where = key_where(fields, chunk)
        own = params.get("oslc.where")
        params["oslc.where"] = f"{own} and {where}" if own else where
        request = Request(req.url, params, req.method, req.json, req.headers)
        e = connector.manifest.entity(entity)
        transform = getattr(connector, e.transform) if e.transform else None
        for page in connector.pages(entity, request, len(chunk)):
            rows = [r for r in page if tuple(str(r.get(f)) for f in fields) in wanted]
            if transform is not None and rows:
                rows = transform(entity, rows)  # as a read does (documents' owner keys)
            if rows:
                yield rows
