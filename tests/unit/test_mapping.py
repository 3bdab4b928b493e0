"""The declarative mapping compiler."""

import pytest

from include.mapping import CompiledMapping, EntityMapping, MappingError
from include.model import list_adapter
from include.model.timeutil import zone

WO = EntityMapping(
    key=("siteid", "wonum"),
    version="changedate",
    remote_id="workorderid",
    fields={
        "title": "description",
        "status": "status",
        "statusKey": {"ref": ["status"]},
        "siteKey": {"ref": ["siteid"]},
        "assetKey": {"ref": ["siteid", "assetnum"]},
        "dueAt": {"ts": "targcompdate"},
        "estimatedTime": {"str": "estdur"},
        "severity": {"first": ["wopriority_description", {"str": "wopriority"}]},
        "notes": {"map": "worktype", "values": {"PM": "preventive"}, "default": None},
    },
)


def compiled(custom=None, tz="UTC"):
    return CompiledMapping(WO, zone(tz), custom)


def test_maps_fields_refs_times_and_custom_fields():
    raw = {
        "siteid": "BEDFORD",
        "wonum": "1001",
        "workorderid": 77,
        "description": "Replace pump seal",
        "status": "APPR",
        "assetnum": "11430",
        "targcompdate": "2024-03-10T03:30:00-04:00",
        "changedate": "2024-03-01T10:00:00-05:00",
        "estdur": 1.5,
        "wopriority": 2,
        "worktype": "PM",
        "udf": {"shift": "night"},
    }
    rec = compiled({"shift": "udf.shift", "missing": "nope"})(raw)
    assert rec.key == "BEDFORD:1001"
    assert rec.remote_id == "77"
    assert rec.version == "2024-03-01T15:00:00Z"
    d = rec.data
    assert d["assetKey"] == "BEDFORD:11430" and d["siteKey"] == "BEDFORD"
    assert d["dueAt"] == "2024-03-10T07:30:00Z"
    assert d["updatedAt"] == "2024-03-01T15:00:00Z"
    assert d["estimatedTime"] == "1.5" and d["severity"] == "2" and d["notes"] == "preventive"
    assert d["customFields"] == {"shift": "night", "missing": None}
    list_adapter("work-orders").validate_python([d])


def test_missing_key_and_bad_time_raise_mapping_error_naming_the_field():
    with pytest.raises(MappingError, match=r"natural key \(siteid, wonum\)"):
        compiled()({"siteid": "BEDFORD"})
    with pytest.raises(MappingError, match="dueAt: not a date/time: 'soon'"):
        compiled()({"siteid": "B", "wonum": "1", "targcompdate": "soon"})


def test_numeric_version_is_zero_padded_so_text_order_is_numeric_order():
    m = EntityMapping(key=("id",), fields={}, version="_rowstamp", version_is_time=False)
    cm = CompiledMapping(m, zone("UTC"))
    assert cm({"id": 1, "_rowstamp": "9"}).version < cm({"id": 1, "_rowstamp": "10"}).version


def test_bool_coercion_rejects_garbage():
    m = EntityMapping(key=("id",), fields={"isActive": {"bool": "active"}})
    cm = CompiledMapping(m, zone("UTC"))
    assert cm({"id": 1, "active": "Y"}).data["isActive"] is True
    with pytest.raises(MappingError, match="isActive: cannot convert 'maybe' to bool"):
        cm({"id": 1, "active": "maybe"})
