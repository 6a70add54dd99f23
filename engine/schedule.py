"""Opening hours: when the piece shows, and when it fades to black and idles.

A gallery is open ten hours a day; the other fourteen the projector shows nothing and the machine
should cost nothing (perception and generator paused). The piece wakes a little before opening so
the first visitor never meets a cold start. `/engine/sleep` and `/engine/wake` override the
schedule until its next change (open → closed or back), so staff can close early or open late
without editing a file.

Pure logic: `open_at(datetime)` and `Schedule.sleeping(now)` take the time they are given.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.config import ScheduleSettings

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ScheduleError(ValueError):
    """A [schedule] value that cannot be read; the message names the key."""


def parse_days(text: str) -> frozenset[int]:
    """'mon-sun', 'tue-sat', 'mon,wed,fri', 'fri-mon' (wraps) → weekday numbers (Monday = 0)."""
    out: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        if not part:
            continue
        a, _, b = part.partition("-")
        if a not in DAYS or (b and b not in DAYS):
            raise ScheduleError(f"schedule.days = '{text}': use mon..sun, e.g. 'tue-sun' or 'mon,wed,fri'")
        i, j = DAYS.index(a), DAYS.index(b or a)
        out.update(((i + k) % 7) for k in range((j - i) % 7 + 1))
    if not out:
        raise ScheduleError(f"schedule.days = '{text}' names no day")
    return frozenset(out)


def parse_time(text: str, key: str) -> dt.time:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ScheduleError(f"schedule.{key} = '{text}' must look like 09:30 (24-hour clock)")
    return dt.time(int(m.group(1)), int(m.group(2)))


class Schedule:
    def __init__(self, settings: ScheduleSettings) -> None:
        s = settings
        self.always = not s.open and not s.close
        if bool(s.open) != bool(s.close):
            raise ScheduleError("schedule: set both open and close (or neither, for always open)")
        self.days = parse_days(s.days)
        self.open = parse_time(s.open, "open") if s.open else dt.time(0, 0)
        self.close = parse_time(s.close, "close") if s.close else dt.time(0, 0)
        if not self.always and self.open == self.close:
            raise ScheduleError("schedule: open and close are the same time")
        try:
            self.tz = ZoneInfo(s.timezone) if s.timezone else None
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(f"schedule.timezone = '{s.timezone}' is not a known time zone") from None
        self.wake_early = dt.timedelta(seconds=s.wake_early_s)
        self.fade_s = s.fade_s
        self._override: bool | None = None  # True = sleep, False = wake, until the schedule changes
        self._override_from: bool | None = None

    def open_at(self, when: dt.datetime) -> bool:
        """Whether the piece is open at this moment, or opens within the early wake-up."""
        if self.always:
            return True
        return self._open(when) or self._open(when + self.wake_early)

    def _open(self, when: dt.datetime) -> bool:
        local = when.astimezone(self.tz) if self.tz else when.astimezone()
        t = local.time()
        if self.open < self.close:  # the same day
            return local.weekday() in self.days and self.open <= t < self.close
        # past midnight: open from `open` on a listed day until `close` the next morning
        if t >= self.open:
            return local.weekday() in self.days
        return t < self.close and (local.weekday() - 1) % 7 in self.days

    def sleeping(self, when: dt.datetime) -> bool:
        scheduled_sleep = not self.open_at(when)
        if self._override is not None and self._override_from != scheduled_sleep:
            self._override = None  # the schedule moved on (closing time, opening time): it rules again
        return self._override if self._override is not None else scheduled_sleep

    def force(self, sleep: bool, when: dt.datetime) -> None:
        """Staff said sleep or wake (OSC): holds until the schedule's next change."""
        self._override = sleep
        self._override_from = not self.open_at(when)


class Dimmer:
    """The fade to and from black, in seconds of the render clock; 1 = fully shown."""

    def __init__(self, fade_s: float) -> None:
        self.fade_s = fade_s
        self.level = 1.0

    def step(self, sleeping: bool, dt_s: float) -> float:
        rate = dt_s / self.fade_s if self.fade_s > 0 else 1.0
        self.level = max(0.0, self.level - rate) if sleeping else min(1.0, self.level + rate)
        return self.level

    @property
    def dark(self) -> bool:
        return self.level <= 0.0
