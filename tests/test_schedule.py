"""Opening hours on exact dates: days, past-midnight hours, time zones, early wake, staff overrides."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from engine.config import ScheduleSettings
from engine.schedule import Dimmer, Schedule, ScheduleError, parse_days

BERLIN = ZoneInfo("Europe/Berlin")


def at(day: int, hh: int, mm: int = 0, tz=BERLIN) -> dt.datetime:
    """2026-11-30 is a Monday: day 0 = Monday."""
    return dt.datetime(2026, 11, 30, hh, mm, tzinfo=tz) + dt.timedelta(days=day)


def test_days_ranges_lists_and_wrap() -> None:
    assert parse_days("mon-sun") == frozenset(range(7))
    assert parse_days("tue-sun") == frozenset(range(1, 7))
    assert parse_days("mon,wed,fri") == frozenset({0, 2, 4})
    assert parse_days("fri-mon") == frozenset({4, 5, 6, 0})
    with pytest.raises(ScheduleError, match="schedule.days"):
        parse_days("monday")


def test_gallery_hours_with_early_wake() -> None:
    s = Schedule(
        ScheduleSettings(
            days="tue-sun", open="10:00", close="18:00", timezone="Europe/Berlin", wake_early_s=600
        )
    )
    assert s.sleeping(at(1, 9, 0)) and not s.sleeping(at(1, 9, 50))  # wakes ten minutes early
    assert not s.sleeping(at(1, 17, 59)) and s.sleeping(at(1, 18, 0))
    assert s.sleeping(at(0, 12))  # Monday: closed


def test_club_hours_past_midnight() -> None:
    s = Schedule(
        ScheduleSettings(
            days="fri-sat", open="22:00", close="05:00", timezone="Europe/Berlin", wake_early_s=0
        )
    )
    assert not s.sleeping(at(4, 23)) and not s.sleeping(at(5, 4, 30))  # Friday night into Saturday
    assert not s.sleeping(at(6, 3))  # Saturday night into Sunday
    assert s.sleeping(at(6, 22)) and s.sleeping(at(0, 3))  # Sunday night is not listed


def test_time_zone_is_honoured() -> None:
    s = Schedule(ScheduleSettings(open="10:00", close="18:00", timezone="Europe/Berlin", wake_early_s=0))
    utc = dt.UTC
    assert not s.sleeping(dt.datetime(2026, 12, 1, 9, 30, tzinfo=utc))  # 10:30 in Berlin
    assert s.sleeping(dt.datetime(2026, 12, 1, 17, 30, tzinfo=utc))  # 18:30 in Berlin


def test_staff_override_holds_until_the_schedule_changes() -> None:
    s = Schedule(ScheduleSettings(open="10:00", close="18:00", timezone="Europe/Berlin", wake_early_s=0))
    s.force(True, at(1, 15))  # closing early
    assert s.sleeping(at(1, 16)) and s.sleeping(at(1, 19))
    assert not s.sleeping(at(2, 10, 30))  # the next opening rules again
    s.force(False, at(2, 19))  # opening late for an event
    assert not s.sleeping(at(2, 23))
    assert not s.sleeping(at(3, 11)) and s.sleeping(at(3, 18, 30))


def test_always_open_by_default_and_bad_values_name_the_key() -> None:
    assert not Schedule(ScheduleSettings()).sleeping(at(0, 3))
    with pytest.raises(ScheduleError, match="schedule.open"):
        Schedule(ScheduleSettings(open="25:00", close="18:00"))
    with pytest.raises(ScheduleError, match="schedule.timezone"):
        Schedule(ScheduleSettings(open="10:00", close="18:00", timezone="Mars/Olympus"))
    with pytest.raises(ScheduleError, match="both"):
        Schedule(ScheduleSettings(open="10:00"))


def test_dimmer_fades_both_ways() -> None:
    d = Dimmer(2.0)
    levels = [d.step(True, 0.5) for _ in range(5)]
    assert levels[:4] == [0.75, 0.5, 0.25, 0.0] and d.dark
    assert d.step(False, 1.0) == 0.5
