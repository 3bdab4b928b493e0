"""OData v2 query options as SAP Gateway evaluates them, over records kept in JSON wire form.

Records hold values exactly as they go on the wire (``/Date(ms)/``, ``/Date(ms+0000)/``, ``PT10H00M00S``,
Edm.Int64 and Edm.Decimal as strings: `wire` sets the rules); comparisons convert them per the property's
EDM type from the EDMX. Supported:
``$filter`` with eq ne gt ge lt le, and, or, not, parentheses, literals 'str', datetime'..',
datetimeoffset'..', time'PT..', numbers (``1.5M`` decimals), true, false, null; ``$orderby`` with asc/desc;
``$select``. Anything else is an `ODataError` (400) naming what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from connectors.sap_s4hana.sandbox.wire import Codec

EDM = "{http://schemas.microsoft.com/ado/2008/09/edm}"
_TIME = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.\d+)?S)?$")


class ODataError(Exception):
    """A request error rendered as SAP's error body."""

    def __init__(self, status: int, message: str, code: str = "SY/530"):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


@dataclass(frozen=True)
class EntitySetInfo:
    service: str
    name: str
    type_name: str  # namespace-qualified, e.g. cds_api_equipment.EquipmentType
    keys: tuple[str, ...]
    props: dict[str, str]  # property -> Edm type, in document order
    not_null: frozenset[str] = frozenset()  # properties with Nullable="false"
    scales: dict[str, int] = field(default_factory=dict)  # Edm.Decimal property -> Scale
    # navigation property -> (target set, many, ((principal prop, dependent prop), ...))
    navs: dict[str, tuple[str, bool, tuple[tuple[str, str], ...]]] = field(default_factory=dict)
    codec: Codec = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        codec = Codec(self.name, self.props, self.not_null, self.scales)
        object.__setattr__(self, "codec", codec)


def load_sets(service: str, path: Path) -> dict[str, EntitySetInfo]:
    """Entity sets of one EDMX document."""
    schema = ElementTree.parse(path).getroot().find(f".//{EDM}Schema")
    ns = schema.get("Namespace")
    types = {}
    for et in schema.findall(f"{EDM}EntityType"):
        keys = tuple(k.get("Name") for k in et.find(f"{EDM}Key"))
        nodes = et.findall(f"{EDM}Property")
        props = {p.get("Name"): p.get("Type") for p in nodes}
        not_null = frozenset(p.get("Name") for p in nodes if p.get("Nullable") == "false")
        scales = {p.get("Name"): int(p.get("Scale")) for p in nodes
                  if p.get("Type") == "Edm.Decimal" and p.get("Scale", "").isdigit()}  # fmt: skip
        types[f"{ns}.{et.get('Name')}"] = (keys, props, not_null, scales)
    out = {}
    navs = _navigations(schema, ns)
    for es in schema.iter(f"{EDM}EntitySet"):
        keys, props, not_null, scales = types[es.get("EntityType")]
        out[es.get("Name")] = EntitySetInfo(
            service, es.get("Name"), es.get("EntityType"), keys, props, not_null, scales,
            navs.get(es.get("Name"), {}),
        )  # fmt: skip
    return out


def _navigations(schema: Any, ns: str) -> dict[str, dict]:
    """Per entity set, its navigation properties resolved through the associations (their
    referential constraints) and association sets (the target set)."""
    assocs = {}
    for a in schema.findall(f"{EDM}Association"):
        ends = {e.get("Role"): e.get("Multiplicity") for e in a.findall(f"{EDM}End")}
        rc = a.find(f"{EDM}ReferentialConstraint")
        pairs: tuple[tuple[str, str], ...] = ()
        if rc is not None:
            principal = [p.get("Name") for p in rc.find(f"{EDM}Principal")]
            dependent = [p.get("Name") for p in rc.find(f"{EDM}Dependent")]
            pairs = tuple(zip(principal, dependent, strict=True))
        assocs[f"{ns}.{a.get('Name')}"] = (ends, pairs)
    set_of_role = {}
    for aset in schema.iter(f"{EDM}AssociationSet"):
        for end in aset.findall(f"{EDM}End"):
            set_of_role[(aset.get("Association"), end.get("Role"))] = end.get("EntitySet")
    sets_of_type = {es.get("EntityType"): es.get("Name") for es in schema.iter(f"{EDM}EntitySet")}
    out: dict[str, dict] = {}
    for et in schema.findall(f"{EDM}EntityType"):
        source = sets_of_type.get(f"{ns}.{et.get('Name')}")
        for nav in et.findall(f"{EDM}NavigationProperty"):
            rel, to_role = nav.get("Relationship"), nav.get("ToRole")
            ends, pairs = assocs[rel]
            target = set_of_role.get((rel, to_role))
            if source and target:
                out.setdefault(source, {})[nav.get("Name")] = (target, ends[to_role] == "*", pairs)
    return out


# --- wire values <-> comparable values ----------------------------------------------------------


def date_ms(value: Any) -> int | None:
    """Milliseconds of ``/Date(ms)/`` or ``/Date(ms+0000)/`` (the offset is informational)."""
    if value is None:
        return None
    if not (value.startswith("/Date(") and value.endswith(")/")):
        raise ValueError(value)
    body = value[6:-2]
    if len(body) > 5 and body[-5] in "+-":
        body = body[:-5]
    return int(body)


def time_seconds(value: Any) -> int | None:
    if value is None:
        return None
    m = _TIME.match(value)
    if not m:
        raise ValueError(value)
    h, mi, s = (int(g or 0) for g in m.groups())
    return h * 3600 + mi * 60 + s


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _integer(value: Any) -> int | None:
    return None if value is None else int(value)


COMPARABLE: dict[str, Callable[[Any], Any]] = {
    "Edm.DateTime": date_ms,
    "Edm.DateTimeOffset": date_ms,
    "Edm.Time": time_seconds,
    "Edm.Decimal": _decimal,
    "Edm.Int64": _integer,  # a string on the wire
}


def wire_datetime(dt: datetime) -> str:
    """Edm.DateTime on the wire: wall-clock time as if it were UTC."""
    return f"/Date({int(dt.replace(tzinfo=UTC).timestamp() * 1000)})/"


def wire_offset(ms: int) -> str:
    """Edm.DateTimeOffset on the wire, in UTC."""
    return f"/Date({ms}+0000)/"


def wire_time(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    return f"PT{h:02d}H{rest // 60:02d}M{rest % 60:02d}S"


# --- $filter ------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<lit>(?:datetimeoffset|datetime|time|guid)?'(?:[^']|'')*')"
    r"|(?P<num>-?\d+(?:\.\d+)?[MmDdLlFf]?)|(?P<lp>\()|(?P<rp>\))|(?P<word>[A-Za-z_][\w/]*))"
)
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}
_LITERAL_TYPES = {
    "datetime": "Edm.DateTime",
    "datetimeoffset": "Edm.DateTimeOffset",
    "time": "Edm.Time",
    "guid": "Edm.Guid",
}


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ODataError(400, f"Invalid $filter: unexpected text at {text[pos : pos + 20]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def _literal_value(raw: str, edm: str, prop: str) -> Any:
    """Convert a filter literal to the comparable value for a property of type ``edm``."""
    if raw == "null":
        return None
    prefix, _, rest = raw.partition("'")
    if "'" in raw:
        given = _LITERAL_TYPES.get(prefix, "Edm.String") if prefix else "Edm.String"
        text = rest[:-1].replace("''", "'")
        if edm in ("Edm.DateTime", "Edm.DateTimeOffset", "Edm.Time") and given != edm:
            raise ODataError(
                400,
                f"Invalid $filter: {prop} is {edm}; literal {raw} is {given}",
                "/IWBEP/CM_MGW_RT/020",
            )
        try:
            if edm == "Edm.DateTimeOffset":
                dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
                if dt.tzinfo is None:
                    dt = dt.replace(tzinfo=UTC)
                return int(dt.timestamp() * 1000)
            if edm == "Edm.DateTime":
                dt = datetime.fromisoformat(text)
                if dt.tzinfo is not None:
                    raise ValueError(text)
                return int(dt.replace(tzinfo=UTC).timestamp() * 1000)
            if edm == "Edm.Time":
                return time_seconds(text)
            if edm == "Edm.Decimal":
                return Decimal(text)
        except (ValueError, InvalidOperation):
            raise ODataError(
                400, f"Invalid $filter: bad literal {raw} for {prop} ({edm})"
            ) from None
        return text
    if raw in ("true", "false"):
        if edm != "Edm.Boolean":
            raise ODataError(400, f"Invalid $filter: {prop} is {edm}; {raw} is Edm.Boolean")
        return raw == "true"
    number = raw.rstrip("MmDdLlFf")
    if edm == "Edm.Decimal":
        return Decimal(number)
    if edm in ("Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte") and "." not in number:
        return int(number)
    if edm in ("Edm.Double", "Edm.Single"):
        return float(number)
    raise ODataError(400, f"Invalid $filter: {prop} is {edm}; literal {raw} does not fit")


Predicate = Callable[[dict], bool]


class _Parser:
    def __init__(self, text: str, es: EntitySetInfo):
        self.toks, self.i, self.es = _tokens(text), 0, es

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ODataError(400, "Invalid $filter: expression ends too early")
        self.i += 1
        return tok

    def parse(self) -> Predicate:
        pred = self.or_expr()
        if self.peek() is not None:
            raise ODataError(400, f"Invalid $filter: unexpected {self.peek()[1]!r}")
        return pred

    def or_expr(self) -> Predicate:
        left = self.and_expr()
        while self.peek() == ("word", "or"):
            self.take()
            a, b = left, self.and_expr()
            left = lambda r, a=a, b=b: a(r) or b(r)  # noqa: E731
        return left

    def and_expr(self) -> Predicate:
        left = self.unary()
        while self.peek() == ("word", "and"):
            self.take()
            a, b = left, self.unary()
            left = lambda r, a=a, b=b: a(r) and b(r)  # noqa: E731
        return left

    def unary(self) -> Predicate:
        tok = self.peek()
        if tok == ("word", "not"):
            self.take()
            inner = self.unary()
            return lambda r: not inner(r)
        if tok and tok[0] == "lp":
            self.take()
            inner = self.or_expr()
            if (self.peek() or ("", ""))[0] != "rp":
                raise ODataError(400, "Invalid $filter: missing ')'")
            self.take()
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        kind, prop = self.take()
        if kind != "word":
            raise ODataError(400, f"Invalid $filter: expected a property, found {prop!r}")
        edm = self.es.props.get(prop)
        if edm is None:
            raise ODataError(
                400,
                f"Property {prop} not found in type {self.es.type_name}",
                "/IWBEP/CM_MGW_RT/022",
            )
        kind, op = self.take()
        if kind != "word" or op not in _OPS:
            raise ODataError(400, f"Invalid $filter: unsupported operator {op!r} after {prop}")
        kind, raw = self.take()
        if kind not in ("lit", "num", "word") or (
            kind == "word" and raw not in ("null", "true", "false")
        ):
            raise ODataError(400, f"Invalid $filter: expected a literal after {prop} {op}")
        value = _literal_value(raw, edm, prop)
        conv = COMPARABLE.get(edm)
        return _compare(prop, op, value, conv)


def _compare(prop: str, op: str, value: Any, conv: Callable | None) -> Predicate:
    def get(r: dict) -> Any:
        v = r.get(prop)
        return conv(v) if conv and v is not None else v

    if op == "eq":
        return lambda r: get(r) == value
    if op == "ne":
        return lambda r: get(r) != value
    if value is None:
        return lambda r: False

    def ordered(r: dict) -> bool:
        v = get(r)
        if v is None:
            return False
        if op == "gt":
            return v > value
        if op == "ge":
            return v >= value
        if op == "lt":
            return v < value
        return v <= value

    return ordered


def compile_filter(text: str, es: EntitySetInfo) -> Predicate:
    return _Parser(text, es).parse()


def sort_key(orderby: str | None, es: EntitySetInfo) -> list[tuple[Callable[[dict], Any], bool]]:
    """``[(key function, descending)]`` for an ``$orderby`` (default: the entity key)."""
    items = [p.strip() for p in orderby.split(",")] if orderby else list(es.keys)
    out = []
    for item in items:
        parts = item.split()
        if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1] not in ("asc", "desc")):
            raise ODataError(400, f"Invalid $orderby: {item!r}")
        prop = parts[0]
        edm = es.props.get(prop)
        if edm is None:
            raise ODataError(
                400, f"Property {prop} not found in type {es.type_name}", "/IWBEP/CM_MGW_RT/022"
            )
        conv = COMPARABLE.get(edm)

        def key(r: dict, prop: str = prop, conv: Callable | None = conv) -> Any:
            v = r.get(prop)
            v = conv(v) if conv and v is not None else v
            return (v is not None, v)  # nulls first, as SAP HANA sorts them

        out.append((key, len(parts) == 2 and parts[1] == "desc"))
    return out


def check_select(select: str | None, es: EntitySetInfo) -> list[str] | None:
    if not select:
        return None
    names = [s.strip() for s in select.split(",") if s.strip()]
    if "*" in names:
        return None
    for n in names:
        if n not in es.props:
            raise ODataError(
                400, f"Property {n} not found in type {es.type_name}", "/IWBEP/CM_MGW_RT/022"
            )
    return names


def key_predicate(es: EntitySetInfo, record: dict) -> str:
    """``('4000000')`` or ``(Equipment='1',ValidityEndDate=datetime'9999-12-31T00%3A00%3A00')``."""
    parts = []
    for k in es.keys:
        v, edm = record.get(k), es.props[k]
        if edm == "Edm.DateTime":
            ms = date_ms(v)
            text = datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H%%3A%M%%3A%S")
            lit = f"datetime'{text}'"
        else:
            lit = "'" + str(v).replace("'", "''") + "'"
        parts.append(lit if len(es.keys) == 1 else f"{k}={lit}")
    return "(" + ",".join(parts) + ")"


def parse_key_predicate(text: str, es: EntitySetInfo) -> dict[str, Any]:
    """Parse ``('4000000')`` / ``(A='1',B='2')`` into wire values of the key properties."""
    inner = text.strip()
    if not (inner.startswith("(") and inner.endswith(")")):
        raise ODataError(400, f"Invalid key predicate {text!r}")
    inner = inner[1:-1]
    parts = re.findall(r"(?:(\w+)=)?((?:datetime)?'(?:[^']|'')*')", inner)
    if len(parts) != len(es.keys):
        raise ODataError(400, f"Key predicate {text!r} must name {', '.join(es.keys)}")
    out = {}
    for (name, lit), default in zip(parts, es.keys, strict=True):
        prop = name or default
        if prop not in es.keys:
            raise ODataError(400, f"{prop} is not a key property of {es.name}")
        if lit.startswith("datetime"):
            out[prop] = wire_datetime(datetime.fromisoformat(lit[9:-1].replace("%3A", ":")))
        else:
            out[prop] = lit[1:-1].replace("''", "'")
    return out
