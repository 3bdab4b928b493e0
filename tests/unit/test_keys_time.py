"""Keys and time conversion: pure functions the whole product leans on."""

from datetime import UTC, datetime, timedelta

import pytest

from include.model.keys import make_key
from include.model.timeutil import format_utc, parse_datetime, parse_duration, to_utc_iso, zone

NY = zone("America/New_York")


def test_key_joins_parts_and_escapes_separators():
    assert make_key(["BEDFORD", "1001"]) == "BEDFORD:1001"
    assert make_key(["A:B", "C"]) != make_key(["A", "B:C"])
    assert make_key(["a/b", "50%"]) == "a%2Fb:50%25"


def test_key_missing_or_blank_part_is_none():
    assert make_key(["BEDFORD", None]) is None
    assert make_key(["BEDFORD", "  "]) is None
    assert make_key([]) is None


def test_offsets_are_converted_to_utc():
    assert to_utc_iso("2024-01-01T10:00:00-05:00") == "2024-01-01T15:00:00Z"
    assert to_utc_iso("2024-01-01T10:00:00Z") == "2024-01-01T10:00:00Z"
    assert to_utc_iso("2024-01-01T10:00:00.250000+01:00") == "2024-01-01T09:00:00.250000Z"


def test_naive_times_use_the_connection_zone_across_dst():
    # New York: EST (-5) before 2024-03-10 02:00, EDT (-4) after.
    assert to_utc_iso("2024-03-10T01:30:00", NY) == "2024-03-10T06:30:00Z"
    assert to_utc_iso("2024-03-10T03:30:00", NY) == "2024-03-10T07:30:00Z"
    # Fall back 2024-11-03: 01:30 happens twice; we take the first (EDT).
    assert to_utc_iso("2024-11-03T01:30:00", NY) == "2024-11-03T05:30:00Z"
    assert to_utc_iso("2024-11-03T02:30:00", NY) == "2024-11-03T07:30:00Z"


def test_sap_and_epoch_dates():
    assert to_utc_iso("/Date(1501027200000)/") == "2017-07-26T00:00:00Z"
    assert to_utc_iso("/Date(1501027200000+0000)/") == "2017-07-26T00:00:00Z"
    assert to_utc_iso(1501027200000) == "2017-07-26T00:00:00Z"


def test_bad_time_names_the_value():
    with pytest.raises(ValueError, match="not a date/time: 'yesterday'"):
        parse_datetime("yesterday")


def test_format_and_empty():
    assert format_utc(None) is None
    assert parse_datetime("") is None
    dt = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert format_utc(dt) == "2024-05-01T12:00:00Z"


def test_durations():
    assert parse_duration("10m") == timedelta(minutes=10)
    assert parse_duration("1d") == timedelta(days=1)
    assert parse_duration("45") == timedelta(seconds=45)
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("ten minutes")


def test_unknown_zone_is_named():
    with pytest.raises(ValueError, match="Mars/Olympus"):
        zone("Mars/Olympus")
