"""Publish channels of the Maximo sandbox: on a change (the handle's or the control endpoint's
``mutate``, ``add``, ``delete``) the records of a structure with a channel are posted to the
channel's HTTP endpoint as Maximo's integration framework does, XML by default
(``<PublishMXWO xmlns="http://www.ibm.com/maximo" ...><MXWOSet><WORKORDER action="Replace">...``)
or JSON (the same tree, attributes as ``{"content": value}`` under ``"Attributes"``). An HTTP
endpoint cannot sign: the channel sends a static secret in a header (``x-webhook-secret`` or the
channel's) or HTTP basic auth. connectors/maximo/publish.py reads these messages;
connectors/maximo/README.md says what is modelled and what is assumed.

Deliveries go through the kit's sender (`connectors.kit.sandbox.deliveries`); a failed one
(non-2xx, refused, timeout) is retried ``retries`` times with a doubling backoff, then kept in
``errors`` (Maximo parks it in the outbound queue's error state for Message Reprocessing).

Control endpoint (beside the kit's ``/_sandbox/records`` and ``/_sandbox/faults``)::

    POST   /_sandbox/publish  {"entity": "work-orders", "url": "...", "secret": "...",
                               "header": "x-webhook-secret", "auth": "header"|"basic",
                               "format": "xml"|"json"}                     -> 201 {"id": n}
    GET    /_sandbox/publish                                              -> 200 channels, counts
    DELETE /_sandbox/publish  {"id": n}                                   -> 204
"""

from __future__ import annotations

import base64
import hmac
import itertools
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests

from connectors.kit.sandbox.control import PREFIX, Control
from connectors.kit.sandbox.deliveries import Deliveries
from connectors.maximo.sandbox.data import DATE_ATTRS

NAMESPACE = "http://www.ibm.com/maximo"
MAXIMO_VERSION = "7 6 20230301-0000 V7611-000"  # the form of Maximo's maximoVersion attribute
# served structure -> (the predefined publish structure over the same main object, main object)
PUBLISHED: dict[str, tuple[str, str]] = {
    "MXAPIWODETAIL": ("MXWO", "WORKORDER"), "MXAPIASSET": ("MXASSET", "ASSET"),
    "MXAPIOPERLOC": ("MXOPERLOC", "LOCATIONS"), "MXAPISITE": ("MXSITE", "SITE"),
    "MXAPIORGANIZATION": ("MXORGANIZATION", "ORGANIZATION"), "MXAPIPM": ("MXPM", "PM"),
    "MXAPIITEM": ("MXITEM", "ITEM"), "MXAPIINVENTORY": ("MXINVENTORY", "INVENTORY"),
    "MXAPIPO": ("MXPO", "PO"), "MXAPICOMPANY": ("MXVENDOR", "COMPANIES"),
    "MXAPIPERSON": ("MXPERSON", "PERSON"), "MXAPIPERSONGROUP": ("MXPERSONGROUP", "PERSONGROUP"),
    "MXAPIASSETMETER": ("MXASSETMETER", "ASSETMETER"),
    "MXAPIMETERREADING": ("MXMETERREADING", "METERREADING"), "MXAPISR": ("MXSR", "SR"),
    "MXAPILABOR": ("MXLABOR", "LABOR"),
    # custom structures over the other objects the connector reads (any name works: the
    # receiver reads the main object)
    "MXAPICHARTOFACCOUNTS": ("MXCOA", "CHARTOFACCOUNTS"),
    "MXAPIMEASUREUNIT": ("MXMEASUREUNIT", "MEASUREUNIT"),
    "MXAPIASSETSTATUS": ("MXASSETSTATUS", "ASSETSTATUS"),
    "MXAPIASSETTEMPLATE": ("MXASSETTEMPLATE", "ASSETTEMPLATE"),
    "MXAPITEMPLATESPAREPART": ("MXTEMPLATESPAREPART", "TEMPLATESPAREPART"),
    "MXAPIASSETSPARE": ("MXSPAREPART", "SPAREPART"), "MXAPIDOCLINKS": ("MXDOCLINKS", "DOCLINKS"),
    "MXAPIITEMSTRUCT": ("MXITEMSTRUCT", "ITEMSTRUCT"), "MXAPIRECEIPT": ("MXRECEIPT", "MATRECTRANS"),
    "MXAPIWPMATERIAL": ("MXWPMATERIAL", "WPMATERIAL"),
}  # fmt: skip
ACTIONS = ("Add", "Replace", "Delete")


@dataclass
class Channel:
    id: int
    structure: str  # the served structure whose changes it publishes (MXAPIWODETAIL)
    url: str
    secret: str = field(repr=False)  # the header's value, or "user:password" for basic
    header: str = "x-webhook-secret"
    auth: str = "header"  # header | basic
    format: str = "xml"  # xml | json

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "structure": self.structure, "url": self.url,
                "header": self.header, "auth": self.auth, "format": self.format}  # fmt: skip


@dataclass
class Delivery:
    channel_id: int
    url: str
    body: bytes
    headers: dict[str, str] = field(repr=False)
    attempts: list[int | str] = field(default_factory=list)
    delivered: bool = False


class PublishChannels(Deliveries):
    """The sandbox's channels and their sender. ``fmt``: epoch seconds -> the sandbox's
    datetime text (its zone and offset)."""

    def __init__(self, fmt: Callable[[int], str], retries: int = 3, backoff: float = 0.2,
                 timeout: float = 10.0) -> None:  # fmt: skip
        self.fmt, self.retries, self.backoff, self.timeout = fmt, retries, backoff, timeout
        self.channels: dict[int, Channel] = {}
        self.errors: list[Delivery] = []
        self._ids = itertools.count(1)
        self._messages = itertools.count(1)
        super().__init__("maximo-publish")

    def add(self, structure: str, url: str, secret: str, *, header: str = "x-webhook-secret",
            auth: str = "header", format: str = "xml") -> Channel:  # noqa: A002  # fmt: skip
        structure = structure.upper()
        if structure not in PUBLISHED:
            raise ValueError(f"no publish channel for {structure!r}; known: {', '.join(PUBLISHED)}")
        if not url.startswith(("http://", "https://")):
            raise ValueError("url must be an http(s) URL")
        if auth not in ("header", "basic") or format not in ("xml", "json"):
            raise ValueError('auth must be "header" or "basic", format "xml" or "json"')
        if not secret or (auth == "basic" and ":" not in secret):
            raise ValueError('secret is required ("user:password" for basic)')
        with self._lock:
            ch = Channel(next(self._ids), structure, url, secret, header.lower(), auth, format)
            self.channels[ch.id] = ch
        return ch

    def remove(self, channel_id: int) -> bool:
        with self._lock:
            return self.channels.pop(channel_id, None) is not None

    def publish(self, structure: str, record: dict[str, Any], action: str) -> int:
        """Queue ``record``'s message for every channel on ``structure``; returns how many."""
        with self._lock:
            targets = [c for c in self.channels.values() if c.structure == structure.upper()]
        for ch in targets:
            body, ctype = self.message(ch, record, action)
            headers = {"content-type": ctype}
            if ch.auth == "basic":
                headers["authorization"] = "Basic " + base64.b64encode(ch.secret.encode()).decode()
            else:
                headers[ch.header] = ch.secret
            self._enqueue(Delivery(ch.id, ch.url, body, headers))
        return len(targets)

    def message(self, ch: Channel, record: dict[str, Any], action: str) -> tuple[bytes, str]:
        """The channel's message for one record: (body, content type)."""
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}")
        os_name, main = PUBLISHED[ch.structure]
        header = {"creationDateTime": self.fmt(int(time.time())), "transLanguage": "EN",
                  "baseLanguage": "EN", "messageID": f"{time.time_ns()}{next(self._messages)}",
                  "maximoVersion": MAXIMO_VERSION, "event": "1"}  # fmt: skip
        if ch.format == "json":
            rec = {"action": action, "Attributes": self._attributes(record)}
            doc = {f"Publish{os_name}": {**header, f"{os_name}Set": {main: [rec]}}}
            return orjson.dumps(doc), "application/json"
        root = ET.Element(f"Publish{os_name}", {"xmlns": NAMESPACE, **header})
        elem = ET.SubElement(ET.SubElement(root, f"{os_name}Set"), main, {"action": action})
        self._xml(elem, record)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True), "application/xml"

    def _text(self, name: str, value: Any) -> str:
        if name in DATE_ATTRS and isinstance(value, int | float) and not isinstance(value, bool):
            return self.fmt(int(value))
        if isinstance(value, bool):
            return "1" if value else "0"
        return str(value)

    def _xml(self, elem: ET.Element, record: dict[str, Any]) -> None:
        for name, value in record.items():
            if name.startswith("_") or value is None:
                continue
            if isinstance(value, list):  # child objects (POLINE...)
                for child in value:
                    if isinstance(child, dict):
                        self._xml(ET.SubElement(elem, name.upper()), child)
                continue
            ET.SubElement(elem, name.upper()).text = self._text(name, value)

    def _attributes(self, record: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in record.items():
            if name.startswith("_") or value is None:
                continue
            if isinstance(value, list):
                out[name.upper()] = [{"Attributes": self._attributes(c)}
                                     for c in value if isinstance(c, dict)]  # fmt: skip
            else:
                out[name.upper()] = {"content": self._text(name, value)}
        return out

    def _deliver(self, d: Delivery) -> None:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                r = self._session.post(d.url, data=d.body, headers=d.headers, timeout=self.timeout)
                d.attempts.append(r.status_code)
                if 200 <= r.status_code < 300:
                    d.delivered = True
                    return
            except requests.RequestException as exc:
                d.attempts.append(type(exc).__name__)
            if attempt < self.retries:
                time.sleep(delay)
                delay *= 2
        with self._lock:
            self.errors.append(d)


class MaximoControl(Control):
    """The kit's control endpoint plus ``/_sandbox/publish`` (the channels)."""

    def __init__(self, records: Any, faults: Any, secret: str, channels: PublishChannels,
                 structures: dict[str, str]) -> None:  # fmt: skip
        super().__init__(records, faults, secret)
        self.channels, self.structures = channels, structures

    def handle(self, method: str, path: str, headers: Any, raw: bytes) -> tuple[int, bytes]:
        if path[len(PREFIX) :].split("?", 1)[0].strip("/") != "publish":
            return super().handle(method, path, headers, raw)
        given = (headers.get("X-Sandbox-Key") or "").encode()
        if not hmac.compare_digest(given, self._secret):
            return 401, orjson.dumps({"error": "X-Sandbox-Key is missing or wrong"})
        try:
            req = orjson.loads(raw) if raw else {}
            if not isinstance(req, dict):
                raise ValueError("the body must be a JSON object")
            if method == "GET":
                return 200, orjson.dumps(
                    {
                        "channels": [c.public() for c in self.channels.channels.values()],
                        "sent": len(self.channels.deliveries),
                        "errors": len(self.channels.errors),
                    }
                )
            if method == "DELETE":
                if not self.channels.remove(int(req.get("id", 0))):
                    return 404, orjson.dumps({"error": f"no channel {req.get('id')!r}"})
                return 204, b""
            if method != "POST":
                return 405, orjson.dumps(
                    {"error": f"{method} /_sandbox/publish: POST, GET, DELETE"}
                )
            entity = str(req.get("entity", ""))
            structure = self.structures.get(entity, entity.upper())
            ch = self.channels.add(structure, str(req.get("url", "")), str(req.get("secret", "")),
                                   header=str(req.get("header") or "x-webhook-secret"),
                                   auth=str(req.get("auth") or "header"),
                                   format=str(req.get("format") or "xml"))  # fmt: skip
            return 201, orjson.dumps(ch.public())
        except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
            return 400, orjson.dumps({"error": str(exc)})
