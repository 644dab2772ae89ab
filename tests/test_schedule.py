"""Send moments and windows as pure functions: weekdays, DST, year ends, every instant covered."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from conftest import AMSTERDAM, NOW_DT
from nieuwsbrief.config import DigestSettings
from nieuwsbrief.schedule import (
    iso_week,
    latest_send_moment,
    send_moment_in_week,
    upcoming,
    window_ending_at,
)

MONDAY_8 = DigestSettings()
# 02:30 on a Sunday falls in the hour that is skipped in spring (29 March 2026) and in the
# hour that happens twice in autumn (26 October 2025): the hardest send time there is.
SUNDAY_0230 = DigestSettings(weekday=6, time=dt.time(2, 30))


def utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def test_latest_send_moment_is_at_or_before_now() -> None:
    send = dt.datetime(2025, 11, 24, 8, 0, tzinfo=AMSTERDAM)
    assert latest_send_moment(MONDAY_8, NOW_DT) == send
    assert latest_send_moment(MONDAY_8, send) == send
    second_before = send - dt.timedelta(seconds=1)
    assert latest_send_moment(MONDAY_8, second_before) == send - dt.timedelta(days=7)
    # The same instant written in UTC gives the same answer.
    assert latest_send_moment(MONDAY_8, utc(send)) == send


@pytest.mark.parametrize("weekday", range(7))
def test_every_weekday_sends_on_that_day_at_local_time(weekday: int) -> None:
    settings = DigestSettings(weekday=weekday, time=dt.time(17, 45))
    moments = list(upcoming(settings, NOW_DT, 60))
    for moment in moments:
        local = moment.astimezone(AMSTERDAM)
        assert (local.weekday(), local.hour, local.minute) == (weekday, 17, 45)
        assert iso_week(local) == window_ending_at(settings, moment).week
    assert moments == sorted(moments, key=utc)
    assert all(utc(moment) > utc(NOW_DT) for moment in moments)


def test_upcoming_starts_after_a_send_moment_it_is_given() -> None:
    send = dt.datetime(2025, 11, 24, 8, 0, tzinfo=AMSTERDAM)
    assert next(upcoming(MONDAY_8, send, 1)) == send + dt.timedelta(days=7)
    assert list(upcoming(MONDAY_8, send, 0)) == []


@pytest.mark.parametrize("settings", [MONDAY_8, SUNDAY_0230], ids=["monday-0800", "sunday-0230"])
@pytest.mark.parametrize(
    "zone", ["Europe/Amsterdam", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
)
def test_windows_tile_time_without_gap_or_overlap(settings: DigestSettings, zone: str) -> None:
    settings = DigestSettings(weekday=settings.weekday, time=settings.time, timezone=ZoneInfo(zone))
    start = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)
    windows = [window_ending_at(settings, moment) for moment in upcoming(settings, start, 60)]
    for before, after in pairwise(windows):
        # Each window opens at the instant the one before closes.
        assert utc(after.start) == utc(before.end)
        assert before.week != after.week
    for window in windows:
        length = utc(window.end) - utc(window.start)
        assert dt.timedelta(days=6, hours=22) <= length <= dt.timedelta(days=7, hours=2)
    # Every quarter of an hour over more than a year (two DST changes in each zone that has
    # them) falls in exactly one window, and the edges themselves in the later one.
    moment = utc(windows[0].start)
    instants = []
    while moment < utc(windows[-1].end):
        instants.append(moment)
        moment += dt.timedelta(minutes=15)
    instants += [utc(w.end) for w in windows[:-1]]
    instants += [utc(w.end) - dt.timedelta(seconds=1) for w in windows]
    index = 0
    for instant in sorted(instants):
        while not windows[index].covers(instant):
            index += 1  # IndexError here would mean an instant no window covers
        # Windows follow each other, so only the neighbours could cover it as well.
        neighbours = windows[max(index - 1, 0) : index] + windows[index + 1 : index + 2]
        assert not any(window.covers(instant) for window in neighbours), instant
    for before, after in pairwise(windows):
        assert after.covers(before.end) and not before.covers(before.end)


@pytest.mark.parametrize(
    ("week", "local", "offset_hours"),
    [
        ("2025-W43", dt.datetime(2025, 10, 20, 8, 0), 2),  # last Monday of summer time
        ("2025-W44", dt.datetime(2025, 10, 27, 8, 0), 1),  # first Monday after clocks go back
        ("2026-W13", dt.datetime(2026, 3, 23, 8, 0), 1),
        ("2026-W14", dt.datetime(2026, 3, 30, 8, 0), 2),  # first Monday after clocks go forward
    ],
)
def test_local_send_time_stays_across_dst(week: str, local: dt.datetime, offset_hours: int) -> None:
    moment = send_moment_in_week(MONDAY_8, week)
    assert moment.replace(tzinfo=None) == local
    assert moment.utcoffset() == dt.timedelta(hours=offset_hours)


def test_send_time_in_the_skipped_spring_hour_still_happens_once() -> None:
    moment = send_moment_in_week(SUNDAY_0230, "2026-W13")
    # 02:30 does not exist on 29 March 2026; the digest goes at the instant 02:30 would be
    # on the old offset (03:30 summer time), and both neighbouring windows agree on it.
    assert utc(moment) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    this = window_ending_at(SUNDAY_0230, moment)
    following = window_ending_at(SUNDAY_0230, next(upcoming(SUNDAY_0230, moment, 1)))
    assert utc(following.start) == utc(this.end)
    assert latest_send_moment(SUNDAY_0230, utc(moment)) == moment
    assert utc(latest_send_moment(SUNDAY_0230, utc(moment) - dt.timedelta(seconds=1))) == utc(
        moment - dt.timedelta(days=7)
    )


def test_send_time_in_the_repeated_autumn_hour_goes_the_first_time() -> None:
    moment = send_moment_in_week(SUNDAY_0230, "2025-W43")
    assert utc(moment) == dt.datetime(2025, 10, 26, 0, 30, tzinfo=dt.UTC)
    # A --now without offset is read in the same zone; in the second 02:15 of that night
    # (fold=1, 01:15 UTC) the send moment of 00:30 UTC has passed, though 02:15 < 02:30.
    second_0215 = dt.datetime(2025, 10, 26, 2, 15, tzinfo=AMSTERDAM, fold=1)
    assert latest_send_moment(SUNDAY_0230, second_0215) == moment
    first_0215 = dt.datetime(2025, 10, 26, 2, 15, tzinfo=AMSTERDAM, fold=0)
    assert utc(latest_send_moment(SUNDAY_0230, first_0215)) == utc(moment) - dt.timedelta(days=7)


def test_weeks_at_the_turn_of_the_year() -> None:
    # Monday 29 December 2025 is in ISO week 1 of 2026.
    latest = latest_send_moment(MONDAY_8, dt.datetime(2026, 1, 1, 12, 0, tzinfo=AMSTERDAM))
    assert latest == dt.datetime(2025, 12, 29, 8, 0, tzinfo=AMSTERDAM)
    assert window_ending_at(MONDAY_8, latest).week == "2026-W01"
    assert send_moment_in_week(MONDAY_8, "2026-W01") == latest
    # 2020 had 53 ISO weeks; 2025 has 52.
    assert send_moment_in_week(MONDAY_8, "2020-W53") == dt.datetime(
        2020, 12, 28, 8, 0, tzinfo=AMSTERDAM
    )
    with pytest.raises(ValueError, match="2025-W53"):
        send_moment_in_week(MONDAY_8, "2025-W53")


@pytest.mark.parametrize("week", ["2025-w48", "2025-W4", "2025W48", "48", "2025-W48 "])
def test_malformed_weeks_are_refused_with_the_expected_form(week: str) -> None:
    with pytest.raises(ValueError, match="YYYY-Www"):
        send_moment_in_week(MONDAY_8, week)


def test_window_is_the_same_whatever_zone_the_send_moment_is_written_in() -> None:
    moment = send_moment_in_week(MONDAY_8, "2025-W48")
    # In Pago Pago (UTC-11) that instant is still Sunday 23 November.
    for written in (moment, utc(moment), moment.astimezone(ZoneInfo("Pacific/Pago_Pago"))):
        window = window_ending_at(MONDAY_8, written)
        assert window.week == "2025-W48"
        assert window.start == dt.datetime(2025, 11, 17, 8, 0, tzinfo=AMSTERDAM)
        assert utc(window.end) == utc(moment)
