"""Dutch formatting for readers: dates ('7 november 2025') and phone links ('020 123 4567').

A small table instead of a locale library: every reader-facing text nieuwsbrief writes is Dutch
(templates, notices, subjects), so dates in another language would make mixed-language mail.
docs/architecture.md says why, and what to change to add a language.
"""

from __future__ import annotations

import datetime as dt
import re

MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


def _day(moment: dt.datetime | dt.date) -> dt.date:
    return moment.date() if isinstance(moment, dt.datetime) else moment


def dutch_date(moment: dt.datetime | dt.date) -> str:
    """Format a date the Dutch way: '7 november 2025' (the date as it is, no zone change)."""
    day = _day(moment)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def dutch_weekday_date(moment: dt.datetime | dt.date) -> str:
    """Format a date with its Dutch weekday: 'maandag 24 november 2025'."""
    day = _day(moment)
    return f"{WEEKDAYS[day.weekday()]} {dutch_date(day)}"


def phone_href(number: str) -> str:
    """Return a tel: link for a Dutch phone number as people write it ('020 123 4567')."""
    digits = re.sub(r"[^\d+]", "", number)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("0"):
        digits = "+31" + digits[1:]
    return f"tel:{digits}"


def whatsapp_href(number: str) -> str:
    """Return the wa.me link for a phone number."""
    return "https://wa.me/" + phone_href(number).removeprefix("tel:+")
