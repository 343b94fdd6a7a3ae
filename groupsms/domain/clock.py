"""How a person reads a time: their time zone and their clock (12- or 24-hour).

Times are stored in UTC (`models.utcnow`; SQLite hands them back naive, which means UTC). A
`Clock` turns one into the words a page shows, in the viewer's zone, so "Today" and "Yesterday"
switch at the viewer's midnight, not at UTC's.

The zone and clock come from the user's profile when set, else from what the browser reported at
sign-in: its IANA zone (`Intl.DateTimeFormat().resolvedOptions().timeZone`) and its locale with the
hour cycle as a BCP 47 extension ("en-US-u-hc-h12"). Without an hour cycle the locale's region
decides; anything unknown reads as UTC on a 24-hour clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

CLOCKS = ("12h", "24h")
# Regions whose usual clock is 12-hour (CLDR's preferred hour cycle h12 or h11).
_TWELVE_HOUR_REGIONS = frozenset(
    "US CA AU NZ IN PH PK BD EG SA AE JO KW QA OM BH LY SD SY IQ YE KR TW MX CO SV HN NI GT PR DO VE "
    "MY".split()
)
_HOUR_CYCLE = re.compile(r"-u(?:-[a-z0-9]{2,8})*?-hc-(h11|h12|h23|h24)\b", re.IGNORECASE)
_REGION = re.compile(r"^[a-z]{2,3}(?:-[a-z]{4})?-([a-z]{2}|\d{3})\b", re.IGNORECASE)


def valid_zone(name: str) -> bool:
    """An IANA zone this machine knows ("America/Chicago"); "" and "UTC" included."""
    if name in ("", "UTC"):
        return True
    if len(name) > 64 or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+\-/]*", name):
        return False
    return name in _zones()


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def zone_names() -> list[str]:
    """Every zone a person may choose, sorted (for the profile setting)."""
    return sorted(z for z in _zones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))


def locale_hour12(locale: str) -> bool | None:
    """True for a 12-hour locale, False for 24-hour, None when the locale says nothing."""
    if not locale:
        return None
    if m := _HOUR_CYCLE.search(locale):
        return m.group(1).lower() in ("h11", "h12")
    if m := _REGION.match(locale):
        return m.group(1).upper() in _TWELVE_HOUR_REGIONS
    if locale.lower() == "en":
        return True
    return None


def _zone(name: str) -> tzinfo:
    if not name or name == "UTC" or not valid_zone(name):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


@dataclass(frozen=True)
class Clock:
    zone_name: str = "UTC"
    hour12: bool = False

    @classmethod
    def resolve(cls, profile_zone: str = "", profile_clock: str = "", browser_zone: str = "",
                browser_locale: str = "") -> Clock:
        """The profile wins where it is set; then the browser; then UTC, 24-hour."""
        zone = next((z for z in (profile_zone, browser_zone) if z and valid_zone(z)), "UTC")
        if profile_clock in CLOCKS:
            hour12 = profile_clock == "12h"
        else:
            hour12 = bool(locale_hour12(browser_locale))
        return cls(zone, hour12)

    @property
    def zone(self) -> tzinfo:
        return _zone(self.zone_name)

    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.zone)

    def _now(self, now: datetime | None) -> datetime:
        return self.local(now or datetime.now(UTC))

    def time(self, moment: datetime) -> str:
        """"2:46 PM" or "14:46"."""
        t = self.local(moment)
        if self.hour12:
            return f"{t.hour % 12 or 12}:{t.minute:02d} {'AM' if t.hour < 12 else 'PM'}"
        return f"{t.hour:02d}:{t.minute:02d}"

    def date(self, moment: datetime, now: datetime | None = None) -> str:
        """"Dec 1" this year, "Dec 1, 2025" another year."""
        t, today = self.local(moment), self._now(now)
        label = f"{t:%b} {t.day}"
        return label if t.year == today.year else f"{label}, {t.year}"

    def day(self, moment: datetime, now: datetime | None = None) -> str:
        """"Today", "Yesterday", a weekday within the week, else the date (a day divider)."""
        t, today = self.local(moment), self._now(now)
        days = (today.date() - t.date()).days
        if days == 0:
            return "Today"
        if days == 1:
            return "Yesterday"
        if 1 < days < 7:
            return f"{t:%A}"
        return self.date(moment, now)

    def stamp(self, moment: datetime, now: datetime | None = None) -> str:
        """A bubble's or a row's time: "2:46 PM" today, "Yesterday, 2:46 PM", "Dec 1, 2:46 PM"."""
        t, today = self.local(moment), self._now(now)
        days = (today.date() - t.date()).days
        if days == 0:
            return self.time(moment)
        if days == 1:
            return f"Yesterday, {self.time(moment)}"
        return f"{self.date(moment, now)}, {self.time(moment)}"

    def full(self, moment: datetime) -> str:
        """Unambiguous, for a tooltip or an export: "Dec 1, 2026, 2:46 PM CST"."""
        t = self.local(moment)
        return f"{t:%b} {t.day}, {t.year}, {self.time(moment)} {t.tzname() or self.zone_name}"

    def ago(self, moment: datetime, now: datetime | None = None) -> str:
        """A list's recency: "Just now", "5 min ago", today's time, "Yesterday", a weekday, a date."""
        t, today = self.local(moment), self._now(now)
        seconds = (today - t).total_seconds()
        if seconds < 60:
            return "Just now"
        if seconds < 3600:
            return f"{int(seconds // 60)} min ago"
        if t.date() == today.date():
            return self.time(moment)
        return self.day(moment, now)

    def day_bounds(self, day: datetime | date) -> tuple[datetime, datetime]:
        """The UTC instants a local calendar day starts and ends (for "from"/"to" date filters).
        A `date` is that calendar day in this zone; a `datetime` is the local day it falls on. A
        day is 23 or 25 hours long when the clocks change."""
        local = self.local(day) if isinstance(day, datetime) else day
        start = datetime(local.year, local.month, local.day, tzinfo=self.zone)
        following = local + timedelta(days=1) if not isinstance(local, datetime) else local.date() + timedelta(days=1)
        end = datetime(following.year, following.month, following.day, tzinfo=self.zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def iso(self, moment: datetime) -> str:
        """Sortable local time with its UTC offset, for exports: "2026-12-01 14:46:05 -06:00"."""
        t = self.local(moment)
        offset = t.strftime("%z")
        return f"{t:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"


UTC_CLOCK = Clock()
