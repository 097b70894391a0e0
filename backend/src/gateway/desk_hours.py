"""The desk's opening hours (GATEWAY_DESK_HOURS in GATEWAY_DESK_TZ): parsing, "open now?",
"when does it open next?" and a description for borrowers. Pure: the caller passes the time.

Format: ranges separated by ``;`` (or ``,``), each ``DAYS HH:MM-HH:MM`` where DAYS is one day
(``Sat``) or a span (``Mon-Fri``, wrapping allowed: ``Fri-Mon``); 24:00 may end a range; a
range does not cross midnight. Example: ``Mon-Fri 09:00-18:00; Sat 10:00-14:00``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_RANGE = re.compile(r"^\s*([A-Za-z]{3})(?:\s*-\s*([A-Za-z]{3}))?\s+(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})\s*$")


class DeskHoursError(ValueError):
    """The text is not a usable desk-hours specification (the message says why)."""


@dataclass(frozen=True)
class DeskRange:
    first_day: int
    last_day: int
    start_min: int  # minutes after midnight
    end_min: int

    def days(self) -> list[int]:
        span = (self.last_day - self.first_day) % 7
        return [(self.first_day + i) % 7 for i in range(span + 1)]


def _day(name: str) -> int:
    try:
        return DAYS.index(name.capitalize())
    except ValueError:
        raise DeskHoursError(f"unknown day {name!r} (use {', '.join(DAYS)})") from None


def _minutes(hh: str, mm: str) -> int:
    h, m = int(hh), int(mm)
    if m > 59 or h > 24 or (h == 24 and m):
        raise DeskHoursError(f"{hh}:{mm} is not a time of day")
    return h * 60 + m


@dataclass(frozen=True)
class DeskHours:
    ranges: tuple[DeskRange, ...]
    tz: ZoneInfo

    @classmethod
    def parse(cls, text: str, tz: ZoneInfo) -> DeskHours:
        ranges = []
        for part in re.split(r"[;,]", text):
            if not part.strip():
                continue
            match = _RANGE.match(part)
            if not match:
                raise DeskHoursError(f"{part.strip()!r} is not like 'Mon-Fri 09:00-18:00'")
            first, last, h1, m1, h2, m2 = match.groups()
            start, end = _minutes(h1, m1), _minutes(h2, m2)
            if start >= end:
                raise DeskHoursError(f"{part.strip()!r}: the range must start before it ends, on the same day")
            ranges.append(DeskRange(_day(first), _day(last or first), start, end))
        if not ranges:
            raise DeskHoursError("no opening hours given")
        return cls(tuple(ranges), tz)

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.tz)
        minute = local.hour * 60 + local.minute
        return any(local.weekday() in r.days() and r.start_min <= minute < r.end_min for r in self.ranges)

    def next_open(self, now: datetime) -> datetime:
        """The start of the next opening (``now`` itself when open), in the desk's time zone."""
        local = now.astimezone(self.tz)
        if self.is_open(now):
            return local
        candidates = []
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            for r in self.ranges:
                if day.weekday() in r.days():
                    start = datetime.combine(day, time(r.start_min // 60, r.start_min % 60), self.tz)
                    if start > local:
                        candidates.append(start)
        return min(candidates)

    def describe(self, language: str) -> str:
        parts = []
        for r in self.ranges:
            names = DAYS_ZH if language == "zh" else DAYS
            days = (
                names[r.first_day]
                if r.first_day == r.last_day
                else (
                    f"{names[r.first_day]}至{names[r.last_day]}"
                    if language == "zh"
                    else f"{names[r.first_day]}-{names[r.last_day]}"
                )
            )
            parts.append(
                f"{days} {r.start_min // 60:02d}:{r.start_min % 60:02d}-{r.end_min // 60:02d}:{r.end_min % 60:02d}"
            )
        return ("；" if language == "zh" else "; ").join(parts)


def describe_moment(moment: datetime, language: str) -> str:
    """'Mon 30 Nov 09:00' / '11月30日（周一）09:00' (the moment in its own time zone)."""
    if language == "zh":
        return f"{moment.month}月{moment.day}日（{DAYS_ZH[moment.weekday()]}）{moment:%H:%M}"
    return f"{DAYS[moment.weekday()]} {moment.day} {MONTHS[moment.month - 1]} {moment:%H:%M}"
