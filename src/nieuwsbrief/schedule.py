"""Work out digest send moments and the window of articles each one covers."""

from __future__ import annotations

import datetime as dt
import re
import shlex
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nieuwsbrief.config import DigestSettings
from nieuwsbrief.errors import NieuwsbriefError, quote

if TYPE_CHECKING:
    from nieuwsbrief.articles import Article

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
# A folder is quoted longer than a value: the character it is refused for may be deep in it.
PATH_QUOTE_LIMIT = 240


@dataclass(frozen=True)
class Window:
    """The articles a digest covers: published at or after ``start``, before ``end``."""

    week: str
    start: dt.datetime
    end: dt.datetime

    @property
    def send_moment(self) -> dt.datetime:
        """Return when this digest goes out: the end of its window."""
        return self.end

    def covers(self, moment: dt.datetime) -> bool:
        """Say whether an article published at ``moment`` belongs to this digest."""
        # Compare in UTC: two datetimes that share a ZoneInfo compare by wall-clock time,
        # which is wrong in the hour that repeats when the clocks go back.
        utc = moment.astimezone(dt.UTC)
        return self.start.astimezone(dt.UTC) <= utc < self.end.astimezone(dt.UTC)


def iso_week(moment: dt.datetime) -> str:
    """Return the ISO week of a moment as ``YYYY-Www``."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def parse_iso_week(week: str) -> tuple[int, int]:
    """Return (year, week) of ``YYYY-Www``; raise ValueError for a malformed or absent week."""
    match = _ISO_WEEK.match(week)
    if not match:
        raise ValueError(f"{quote(week)} is not an ISO week; write it as YYYY-Www, e.g. 2025-W48")
    year, number = int(match[1]), int(match[2])
    try:
        dt.date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValueError(f"{quote(week)} does not exist") from None
    return year, number


def send_moment_in_week(settings: DigestSettings, week: str) -> dt.datetime:
    """Return the send moment of an ISO week (``2025-W48``), in local wall-clock time."""
    year, number = parse_iso_week(week)
    return _local(dt.date.fromisocalendar(year, number, settings.weekday + 1), settings)


def _local(day: dt.date, settings: DigestSettings) -> dt.datetime:
    # Combine wall-clock time with the zone: the send time stays 08:00 across DST changes.
    # A time that does not exist on a spring-forward day (fold=0) resolves to the later offset.
    return dt.datetime.combine(day, settings.time, tzinfo=settings.timezone)


def latest_send_moment(settings: DigestSettings, now: dt.datetime) -> dt.datetime:
    """Return the latest send moment at or before ``now``."""
    local_now = now.astimezone(settings.timezone)
    days_back = (local_now.weekday() - settings.weekday) % 7
    candidate = _local(local_now.date() - dt.timedelta(days=days_back), settings)
    # In UTC: a --now without offset shares the zone object, and then Python compares wall
    # clocks, which misorders a send time and a moment in the hour that repeats in autumn.
    if candidate.astimezone(dt.UTC) > now.astimezone(dt.UTC):
        candidate = _local(candidate.date() - dt.timedelta(days=7), settings)
    return candidate


def window_ending_at(settings: DigestSettings, send_moment: dt.datetime) -> Window:
    """Return the window that closes at ``send_moment``: since the previous send moment."""
    local = send_moment.astimezone(settings.timezone)
    previous = _local(local.date() - dt.timedelta(days=7), settings)
    return Window(week=iso_week(local), start=previous, end=send_moment)


def upcoming(settings: DigestSettings, now: dt.datetime, count: int) -> Iterator[dt.datetime]:
    """Yield the next ``count`` send moments after ``now``."""
    moment = latest_send_moment(settings, now)
    for _ in range(count):
        moment = _local(moment.date() + dt.timedelta(days=7), settings)
        yield moment


@dataclass(frozen=True)
class ComingDigest:
    """A send moment still to come and what its digest would hold as the articles stand."""

    window: Window
    articles: list[Article]
    drafts: list[Article]


def coming_digests(
    settings: DigestSettings, articles: Iterable[Article], now: dt.datetime, count: int
) -> list[ComingDigest]:
    """Return the next ``count`` digests with the articles dated in their windows.

    An article dated after ``now`` is counted in the digest of its date: by the send moment it
    is published. Drafts are listed apart: they stay out until ``draft: true`` goes.
    """
    pool = list(articles)
    coming = []
    for send_moment in upcoming(settings, now, count):
        window = window_ending_at(settings, send_moment)
        inside = sorted(
            (a for a in pool if window.covers(a.date)),
            key=lambda a: (a.date.astimezone(dt.UTC), a.slug),
        )
        coming.append(
            ComingDigest(
                window,
                [a for a in inside if not a.draft],
                [a for a in inside if a.draft],
            )
        )
    return coming


def cron_lines(settings: DigestSettings, command: Sequence[str], workdir: str) -> list[str]:
    """Return crontab lines that run ``command`` in ``workdir`` at every send moment.

    ``CRON_TZ`` makes cron (cronie, and systemd-cron) read the time in the digest's zone, so the
    line stays right across daylight saving time; crons without it read the machine's zone.
    """
    refuse_unschedulable_path(Path(workdir), "rename the folder")
    day = (settings.weekday + 1) % 7  # cron counts from Sunday = 0
    run = " ".join(_cron_quote(part) for part in command)
    return [
        f"CRON_TZ={settings.timezone.key}",
        f"{settings.time.minute} {settings.time.hour} * * {day} cd {_cron_quote(workdir)} && {run}",
    ]


def refuse_unschedulable_path(folder: Path, fix: str) -> None:
    """Raise when ``folder`` cannot be written in a crontab line or a systemd unit.

    A line break (or another control character, or U+2028/U+2029, which some tools take for
    one) ends the line inside the path: in a crontab what follows is a line of its own, a
    second job. No quoting helps; the folder needs another name.
    """
    text = str(folder)
    if any(unicodedata.category(char) == "Cc" or char in "\u2028\u2029" for char in text):
        raise NieuwsbriefError(
            f"the project folder {quote(text, PATH_QUOTE_LIMIT)} holds a control character "
            f"(such as a line break), which no crontab line or systemd unit can carry; {fix}"
        )


def _cron_quote(part: str) -> str:
    """Quote ``part`` for the shell, then for cron, which turns a bare '%' into a newline.

    Each '%' is written ``'\\%'``: outside the single quotes, escaped for cron (which drops the
    backslash), so a backslash before it in ``part`` cannot combine with the escape.
    """
    if "%" not in part:
        return shlex.quote(part)
    return "'" + part.replace("'", "'\"'\"'").replace("%", "'\\%'") + "'"


WEEKDAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def systemd_calendar(settings: DigestSettings) -> str:
    """Return the systemd ``OnCalendar=`` value of the send moment, in the digest's zone."""
    day = WEEKDAY_ABBREVIATIONS[settings.weekday]
    return f"{day} *-*-* {settings.time:%H:%M}:00 {settings.timezone.key}"


def systemd_timer(settings: DigestSettings, description: str) -> str:
    """Return a systemd timer unit that starts ``nieuwsbrief.service`` at every send moment."""
    return (
        "[Unit]\n"
        f"Description={description}\n\n"
        "[Timer]\n"
        f"OnCalendar={systemd_calendar(settings)}\n"
        "Persistent=true\n\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )


def time_shifts_with_dst(settings: DigestSettings, now: dt.datetime) -> bool:
    """Say whether the send time is skipped or repeated on a DST change in the coming year.

    Cron then fires at another moment than the send moment (e.g. 03:00 for a skipped 02:30).
    """
    for moment in upcoming(settings, now, 53):
        wall = moment.replace(tzinfo=None)
        there = moment.astimezone(dt.UTC).astimezone(settings.timezone).replace(tzinfo=None)
        other_fold = moment.replace(fold=1 - moment.fold)
        if there != wall or other_fold.utcoffset() != moment.utcoffset():
            return True
    return False
