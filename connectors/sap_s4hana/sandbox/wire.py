"""OData v2 JSON values as the EDMX types them: the one place the sandbox shapes what it sends.

OData v2 JSON (odata.org, "JSON Format (OData Version 2.0)", primitive types; SAP Gateway follows it):

| EDM type | JSON | example |
|---|---|---|
| Edm.String | string | ``"PM01"`` |
| Edm.Boolean | true / false | ``true`` |
| Edm.Byte, Edm.SByte, Edm.Int16, Edm.Int32 | number | ``3`` |
| Edm.Int64 | string | ``"6000000123"`` |
| Edm.Decimal | string, with the scale's digits | ``"12.500"`` |
| Edm.Double, Edm.Single | string | ``"1.5E+01"`` |
| Edm.Guid | string | ``"fa163e8f-..."`` |
| Edm.DateTime | ``"/Date(<ms>)/"`` (wall clock as if UTC) | ``"/Date(1704067200000)/"`` |
| Edm.DateTimeOffset | ``"/Date(<ms>+0000)/"`` | ``"/Date(1704067200000+0000)/"`` |
| Edm.Time | ``"PT<h>H<m>M<s>S"`` | ``"PT10H30M00S"`` |

``null`` only where the property is not ``Nullable="false"``. A `Codec` per entity set converts a record to
exactly this (Python values such as ``Decimal``, ``datetime`` or an ``int`` for an Edm.Int64 are turned
into their wire form) and rejects what cannot be converted with a `WireError` naming the property.
Records are coerced when they enter the sandbox (``--data``, the test handle, PATCH) and again when
they are sent, so generated records obey the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

_DATE = re.compile(r"^/Date\((-?\d+)\)/$")
_DATE_OFFSET = re.compile(r"^/Date\((-?\d+)(?:([+-])(\d{4}))?\)/$")
_TIME = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")
_INT = re.compile(r"^-?\d+$")
_DECIMAL = re.compile(r"^-?\d+(?:\.\d+)?$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_EPOCH = datetime(1970, 1, 1)
NUMBER_TYPES = {"Edm.Byte": (0, 255), "Edm.SByte": (-128, 127), "Edm.Int16": (-(2**15), 2**15 - 1),
                "Edm.Int32": (-(2**31), 2**31 - 1)}  # fmt: skip
INT64 = (-(2**63), 2**63 - 1)


class WireError(ValueError):
    """A value that does not fit its property's EDM type."""


def _fail(edm: str, value: Any) -> WireError:
    return WireError(f"{value!r} is not a valid {edm}")


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _fail("Edm.String", value)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _fail("Edm.Boolean", value)


def _number(edm: str) -> Callable[[Any], int]:
    lo, hi = NUMBER_TYPES[edm]

    def conv(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise _fail(edm, value)
        if isinstance(value, str):
            if not _INT.match(value):
                raise _fail(edm, value)
            value = int(value)
        if not lo <= value <= hi:
            raise WireError(f"{value} is out of range for {edm}")
        return value

    return conv


def _int64(value: Any) -> str:
    if type(value) is str and _INT.match(value) and len(value) < 19:
        return value  # the common case, already on the wire
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _fail("Edm.Int64", value)
    if isinstance(value, str):
        value = value.removesuffix("L")
        if not _INT.match(value):
            raise _fail("Edm.Int64", value)
        value = int(value)
    if not INT64[0] <= value <= INT64[1]:
        raise WireError(f"{value} is out of range for Edm.Int64")
    return str(value)


def _decimal(scale: int | None) -> Callable[[Any], str]:
    def conv(value: Any) -> str:
        if type(value) is str and _DECIMAL.match(value):
            return value  # kept as sent: SAP amounts follow their currency's decimals
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise _fail("Edm.Decimal", value)
        try:
            number = Decimal(value.removesuffix("M") if isinstance(value, str) else str(value))
        except InvalidOperation:
            raise _fail("Edm.Decimal", value) from None
        if not number.is_finite():
            raise _fail("Edm.Decimal", value)
        if scale is not None:
            number = number.quantize(Decimal(1).scaleb(-scale))
        return format(number, "f")

    return conv


def _floating(edm: str) -> Callable[[Any], str]:
    def conv(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _fail(edm, value)
        try:
            number = float(value.rstrip("dDfF") if isinstance(value, str) else value)
        except ValueError:
            raise _fail(edm, value) from None
        return repr(number) if isinstance(value, int | float) else value

    return conv


def _guid(value: Any) -> str:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str) and _GUID.match(value):
        return value.lower()
    raise _fail("Edm.Guid", value)


def _ms(dt: datetime) -> int:
    """Milliseconds since the epoch of a naive wall clock (or an aware instant, in UTC)."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return (dt - _EPOCH) // timedelta(milliseconds=1)


def _datetime(value: Any) -> str:
    if isinstance(value, str):
        m = _DATE_OFFSET.match(value)
        if m and not m.group(2):
            return value
        if m:  # an offset on an Edm.DateTime: SAP means the wall clock
            raise WireError(f"{value!r} is not a valid Edm.DateTime (no offset allowed)")
        raise _fail("Edm.DateTime", value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise WireError(f"{value!r}: an Edm.DateTime is a wall clock without a zone")
        return f"/Date({_ms(value)})/"
    raise _fail("Edm.DateTime", value)


def _datetime_offset(value: Any) -> str:
    if isinstance(value, str):
        m = _DATE_OFFSET.match(value)
        if not m:
            raise _fail("Edm.DateTimeOffset", value)
        if m.group(2) is None:  # /Date(ms)/ on an offset property: UTC, as SAP sends it
            return f"/Date({m.group(1)}+0000)/"
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise WireError(f"{value!r}: an Edm.DateTimeOffset needs a zone")
        return f"/Date({_ms(value)}+0000)/"
    raise _fail("Edm.DateTimeOffset", value)


def _time(value: Any) -> str:
    if isinstance(value, str) and _TIME.match(value) and value != "PT":
        return value
    if isinstance(value, time):
        return f"PT{value.hour:02d}H{value.minute:02d}M{value.second:02d}S"
    if isinstance(value, timedelta):
        s = int(value.total_seconds())
        return f"PT{s // 3600:02d}H{s % 3600 // 60:02d}M{s % 60:02d}S"
    raise _fail("Edm.Time", value)


def converter(edm: str, scale: int | None = None) -> Callable[[Any], Any]:
    """The function that turns a non-null value into the wire form of ``edm``."""
    simple: dict[str, Callable[[Any], Any]] = {
        "Edm.String": _string, "Edm.Boolean": _boolean, "Edm.Int64": _int64,
        "Edm.Guid": _guid, "Edm.DateTime": _datetime, "Edm.DateTimeOffset": _datetime_offset,
        "Edm.Time": _time,
    }  # fmt: skip
    if edm in simple:
        return simple[edm]
    if edm in NUMBER_TYPES:
        return _number(edm)
    if edm == "Edm.Decimal":
        return _decimal(scale)
    if edm in ("Edm.Double", "Edm.Single"):
        return _floating(edm)
    raise WireError(f"the sandbox does not serve {edm} properties")


def initial(edm: str, scale: int | None = None) -> Any:
    """SAP's initial value of an ABAP field of this type, as Gateway sends it (dates: null)."""
    if edm == "Edm.String":
        return ""
    if edm == "Edm.Boolean":
        return False
    if edm in NUMBER_TYPES:
        return 0
    if edm == "Edm.Int64":
        return "0"
    if edm == "Edm.Decimal":
        return _decimal(scale)(0)
    if edm in ("Edm.Double", "Edm.Single"):
        return "0"
    if edm == "Edm.Guid":
        return "00000000-0000-0000-0000-000000000000"
    if edm == "Edm.Time":
        return "PT00H00M00S"
    return None


class Codec:
    """Wire-form conversion of one entity type's records, from its EDMX properties."""

    def __init__(self, name: str, props: Mapping[str, str], not_null: frozenset[str],
                 scales: Mapping[str, int]) -> None:  # fmt: skip
        self.name = name
        self.convert = {p: converter(t, scales.get(p)) for p, t in props.items()}
        self.not_null = not_null
        self.template = {p: initial(t, scales.get(p)) for p, t in props.items()}
        self._plan = tuple((p, self.template[p], t == "Edm.String") for p, t in props.items())

    def value(self, prop: str, value: Any) -> Any:
        conv = self.convert.get(prop)
        if conv is None:
            raise WireError(f"{self.name} has no property {prop}")
        if value is None:
            if prop in self.not_null:
                raise WireError(f"{self.name}.{prop} is not nullable")
            return None
        try:
            return conv(value)
        except WireError as exc:
            raise WireError(f"{self.name}.{prop}: {exc}") from None

    def record(self, rec: Mapping[str, Any]) -> dict[str, Any]:
        """``rec`` in wire form, every property present (missing ones at their initial value)."""
        out: dict[str, Any] = {}
        get = rec.get
        for prop, default, is_string in self._plan:  # hot: every record sent passes here
            v = get(prop, default)
            if (is_string and type(v) is str) or v is None and prop not in self.not_null:
                out[prop] = v
            else:
                out[prop] = self.value(prop, v)
        return out

    def changes(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Only the given properties, in wire form."""
        return {p: self.value(p, v) for p, v in changes.items()}
