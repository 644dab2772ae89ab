"""Read ``schedule.yaml`` into typed, validated settings."""

from __future__ import annotations

import datetime as dt
import difflib
import ipaddress
import re
import stat
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote as percent_encode
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nieuwsbrief.errors import ConfigError, InvalidSettings, escape_char, quote
from nieuwsbrief.services import MAIL_SERVICES
from nieuwsbrief.yamlsafe import DuplicateKeyError, YamlRefused, load_yaml

SETTINGS_FILE = "schedule.yaml"

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Editors are Dutch; accept the Dutch weekday names as well as the English ones.
DUTCH_WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")

MAIL_SERVICE_NAMES = tuple(MAIL_SERVICES)

MAX_SETTINGS_BYTES = 100_000
MAX_REPORTED = 10  # unknown keys named one by one per section; the rest are counted


@dataclass(frozen=True)
class Person:
    """Someone named in feeds or mail headers."""

    name: str
    email: str | None = None


@dataclass(frozen=True)
class Contact:
    """How readers reach the practice; shown in the digest's contact block."""

    phone: str | None = None
    whatsapp: str | None = None
    email: str | None = None
    booking_url: str | None = None
    booking_text: str = "Maak een afspraak"
    address: str | None = None


@dataclass(frozen=True)
class Logo:
    """The practice's logo at the top of the digest (``site.logo``)."""

    url: str
    alt: str
    width: int = 160


@dataclass(frozen=True)
class SiteSettings:
    """The website the articles belong to."""

    title: str
    base_url: str
    description: str
    author: Person
    language: str = "nl"
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Amsterdam"))
    articles_path: str = "/artikelen/"
    contact: Contact = field(default_factory=Contact)
    # The practice's logo: at the top of the digest and as the feeds' image.
    logo: Logo | None = None
    # How the email addresses its readers: informal "je" or formal "u".
    address_form: str = "je"
    # Feed branding: the absolute, percent-encoded URL of a small square icon.
    icon: str | None = None
    copyright: str | None = None
    # The date in every tag: URI id (RFC 4151: a day the site owned its domain). None keeps
    # the ids of projects from before this setting: each article's own date (docs/feeds.md).
    tag_date: str | None = None

    def article_url(self, slug: str) -> str:
        """Return the absolute URL of the article with this slug."""
        return f"{self.base_url}{self.articles_path}{slug}/"

    def url(self, path: str) -> str:
        """Return the absolute URL of a site-relative path."""
        return self.base_url + "/" + path.lstrip("/")


@dataclass(frozen=True)
class FeedSettings:
    """What goes into the RSS, Atom and JSON feeds."""

    limit: int = 20
    path: str = "/"
    # RFC 5005 archive pages hold this many items each, oldest first.
    archive_size: int = 50
    websub_hub: str | None = None


@dataclass(frozen=True)
class DigestSettings:
    """When the weekly email goes out, what it covers and how it is sent."""

    weekday: int = 0  # Monday, as in datetime.weekday()
    time: dt.time = dt.time(8, 0)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Amsterdam"))
    max_items: int = 10
    empty_week: str = "skip"
    subject: str = "{site}: nieuwsbrief week {week_number}"
    # None: the inbox preview names this week's first titles.
    preheader: str | None = None
    # None: "Dit zijn de artikelen die we deze week voor je (u) schreven."
    intro: str | None = None
    sender: Person | None = None
    reply_to: str | None = None
    mail_service: str = "generic"
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None
    # The text in unsubscribe_url that the sending tool replaces for each recipient.
    recipient_placeholder: str | None = None
    max_html_bytes: int = 100_000
    # Topics (tags, as written or as slug) that get their own weekly digest (docs/topics.md).
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class TopicInfo:
    """A topic's display name and description from ``topics.names`` (docs/topics.md)."""

    name: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class TopicSettings:
    """Per-topic feeds, the website's lists, related articles and the crisis-line notice."""

    list_size: int = 10
    related_size: int = 5
    date_format: str = "{d}-{m}-{yyyy}"
    # Keyed by the tag as written in schedule.yaml; matched to tags by slug.
    names: tuple[tuple[str, TopicInfo], ...] = ()
    crisis_topics: tuple[str, ...] = ("suïcide", "suïcidaliteit", "zelfdoding", "zelfmoord")
    # None: the default Dutch notice in the site's address form (topics.py).
    crisis_notice: str | None = None


@dataclass(frozen=True)
class SmtpSettings:
    """Where ``nieuwsbrief send`` delivers a test mail; the password comes from the environment."""

    host: str = "localhost"
    port: int = 587
    security: str = "starttls"
    user: str | None = None
    password_env: str = "NIEUWSBRIEF_SMTP_PASSWORD"  # noqa: S105 - a variable name, not a secret
    timeout: int = 20


@dataclass(frozen=True)
class Settings:
    """Everything ``schedule.yaml`` says, validated."""

    site: SiteSettings
    feeds: FeedSettings
    digest: DigestSettings
    path: Path
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)
    topics: TopicSettings = field(default_factory=TopicSettings)

    @property
    def project_dir(self) -> Path:
        """Return the folder holding ``schedule.yaml``, ``articles/`` and ``templates/``."""
        return self.path.parent

    def localize(self, moment: dt.datetime) -> dt.datetime:
        """Read a moment without an offset (such as a bare ``--now``) in the site's time zone."""
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=self.site.timezone)


# --- Values that reach a mail header, a URL or a message: one validator each. ---------------

# Line breaks of any kind and control characters: never in a single-line text.
_LINE_BREAK_OR_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# In a text of several lines (intro, address): a line break or a tab is fine, the rest is not.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_URL_FORBIDDEN = re.compile("[\\s\"'<>\\\\`{}|^\x00-\x1f\x7f-\x9f\u2028\u2029]")
_URL_SAFE = "/%:@!$&()*+;=-._~"
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_LOCAL_PART = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*")
_PATH = re.compile(r"[A-Za-z0-9._~/-]*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,12}")
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


# Direction overrides and isolates: they reverse the text after them in mail and feed readers
# (a spoofed title or sender); ZWJ/ZWNJ are left alone, emoji and scripts need them.
BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")


def header_text_problem(value: str) -> tuple[str, str] | None:
    """Return (problem, fix) when a one-line text cannot go into a title or mail header as is.

    '=?' starts an RFC 2047 encoded word, which mail programs decode (even into a line break
    and a header of its own); a direction control makes the text read otherwise than written.
    """
    if "=?" in value:
        return (
            "holds '=?', which mail programs read as the start of an encoded word (RFC 2047)",
            "write it without '=?', for example with a space: '= ?'",
        )
    bidi = BIDI_CONTROL.search(value)
    if bidi:
        return (
            f"holds an invisible direction control U+{ord(bidi[0]):04X}",
            "remove it",
        )
    return None


def _describe_char(char: str) -> str:
    code = ord(char)
    if char.isspace() and code < 0x80:
        names = {" ": "a space", "\t": "a tab", "\n": "a line break", "\r": "a carriage return"}
        return names.get(char, f"the control character \\x{code:02x}")
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"the control character {escape_char(char)}"
    if code > 0x7F:
        return f"the character {escape_char(char)}"
    return f"the character {quote(char)}"


def _hostname(host: str) -> str:
    """Return ``host`` as ASCII (IDNA for a non-ASCII domain); raise ValueError if it is none."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return f"[{address}]" if address.version == 6 else str(address)
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError(f"{quote(host)} is not a valid domain name") from None
    labels = ascii_host.rstrip(".").split(".")
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"{quote(host)} is not a valid domain name")
    return ascii_host.rstrip(".")


def normalize_url(value: str, schemes: tuple[str, ...] = ("https", "http")) -> str:
    """Parse an absolute URL and write it again: IDNA host, percent-encoded path and query.

    Raise ValueError (a message fit for an editor) for whitespace, quotes, angle brackets,
    control characters, a user name or password, or another scheme than ``schemes``.
    """
    bad = _URL_FORBIDDEN.search(value)
    if bad:
        raise ValueError(f"{quote(value)} contains {_describe_char(bad[0])}")
    try:
        parts = urlsplit(value)
        port = parts.port
        if port == 0:
            raise ValueError
    except ValueError:
        raise ValueError(f"{quote(value)} is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes or not parts.netloc:
        start = " or ".join(f"{name}://" for name in schemes)
        raise ValueError(f"{quote(value)} is not an absolute URL starting with {start}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{quote(value)} holds a user name or password")
    if not parts.hostname:
        raise ValueError(f"{quote(value)} has no domain")
    netloc = _hostname(parts.hostname) + (f":{port}" if port is not None else "")

    def encode(text: str, safe: str) -> str:
        # Keep %XX escapes as written; a '%' that starts none is itself encoded.
        text = re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", text)
        return percent_encode(text, safe=safe)

    return urlunsplit(
        (
            scheme,
            netloc,
            encode(parts.path, _URL_SAFE),
            encode(parts.query, _URL_SAFE + "?"),
            encode(parts.fragment, _URL_SAFE + "?"),
        )
    )


def check_email(value: str) -> str:
    """Return one plain e-mail address with its domain in ASCII (IDNA); raise ValueError.

    The local part is letters, digits, '.', '_', '+' and '-': what fits unencoded in a
    header, a ``mailto:`` URL and an SMTP envelope. The CLI's ``send --to`` uses it too.
    """
    local, at, domain = value.strip().rpartition("@")
    example = "write it as name@domain.nl"
    if not at or not local or not domain:
        raise ValueError(f"{quote(value)} is not a single e-mail address; {example}")
    if len(local) > 64 or not _LOCAL_PART.fullmatch(local):
        raise ValueError(
            f"{quote(value)} is not a single e-mail address (use letters, digits, '.', '_', "
            f"'+' and '-' before the @); {example}"
        )
    bad = _URL_FORBIDDEN.search(domain)
    try:
        if bad:
            raise ValueError
        ascii_domain = _hostname(domain)
    except ValueError:
        raise ValueError(f"{quote(value)} has no valid domain; {example}") from None
    if "." not in ascii_domain or ascii_domain.startswith("[") or ascii_domain[-1].isdigit():
        raise ValueError(f"{quote(value)} has no valid domain; {example}")
    return f"{local}@{ascii_domain}"


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` names this machine (where a password in clear stays local)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def did_you_mean(value: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """Return "did you mean 'x'?" for the closest of ``choices``, if one is close."""
    close = difflib.get_close_matches(value.lower(), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"did you mean {quote(close[0])}?" if close else None


class _Section:
    """Take typed values out of one mapping of schedule.yaml; collect every error, naming its key.

    Each reader records a problem in the shared list and returns a fallback, so one run
    reports every problem of the file at once.
    """

    def __init__(
        self, path: Path, prefix: str, data: object, errors: list[ConfigError]
    ) -> None:
        self.path = path
        self.prefix = prefix
        self.errors = errors
        self.broken = False
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            errors.append(
                ConfigError(
                    path,
                    f"must be a mapping of keys to values, not {_kind(data)}",
                    field=prefix or None,
                    fix="write 'key: value' lines, as in the schedule.yaml of 'nieuwsbrief init'",
                )
            )
            self.broken = True
            data = {}
        self.data: Mapping[str, Any] = data
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, problem: str, fix: str | None = None) -> ConfigError:
        return ConfigError(self.path, problem, field=self.key(name), fix=fix)

    def fail(self, name: str, problem: str, fix: str | None = None) -> None:
        if not self.broken:
            self.errors.append(self.error(name, problem, fix))

    def raw(self, name: str) -> object:
        self.used.add(name)
        return self.data.get(name)

    def text(
        self,
        name: str,
        default: str | None = None,
        *,
        required: bool = False,
        lines: bool = False,
        limit: int = 200,
    ) -> str | None:
        """Return a text value as written, stripped; refuse control characters.

        Without ``lines`` the text must be one line (it may reach a mail header).
        """
        value = self.raw(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(name, "is required", f"add '{name}:' to the settings")
            return default
        if not isinstance(value, str):
            self.fail(name, f"must be text, not {_kind(value)}", "put the value between quotes")
            return default
        value = value.strip()
        if len(value) > limit:
            self.fail(name, f"is {len(value):,} characters long, more than {limit:,}", "shorten it")
            return default
        bad = (_CONTROL if lines else _LINE_BREAK_OR_CONTROL).search(value)
        if bad:
            self.fail(
                name,
                f"contains {_describe_char(bad[0])}",
                "write it on one line, without control characters"
                if not lines
                else "remove the control character",
            )
            return default
        if not lines and (problem := header_text_problem(value)):
            self.fail(name, *problem)
            return default
        return value

    def number(self, name: str, default: int, low: int, high: int) -> int:
        value = self.raw(name)
        if value is None or value == "":
            return default
        text = value.strip() if isinstance(value, str) else None
        if text is None or not _WHOLE_NUMBER.fullmatch(text):
            self.fail(name, f"must be a whole number, not {_kind(value)}", f"write e.g. {default}")
            return default
        number = int(text)
        if not low <= number <= high:
            self.fail(name, f"must be from {low:,} to {high:,}, not {number:,}")
            return default
        return number

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(name, default)
        assert value is not None
        value = value.lower()
        if value not in choices:
            hint = did_you_mean(value, choices)
            self.fail(
                name,
                f"{quote(value)} is not one of {', '.join(choices)}",
                hint,
            )
            return default
        return value

    def url(
        self, name: str, *, required: bool = False, schemes: tuple[str, ...] = ("https", "http")
    ) -> str | None:
        value = self.text(name, required=required, limit=2000)
        if value is None:
            return None
        try:
            return normalize_url(value, schemes)
        except ValueError as exc:
            example = "https://www.example.nl" if name == "base_url" else "https://www.example.nl/pad/"
            self.fail(name, str(exc), f"write one full URL such as {example}")
            return None

    def email(self, name: str) -> str | None:
        value = self.text(name, limit=254)
        if value is None:
            return None
        try:
            return check_email(value)
        except ValueError as exc:
            self.fail(name, str(exc))
            return None

    def section(self, name: str) -> _Section:
        self.used.add(name)
        section = _Section(self.path, self.key(name), self.data.get(name), self.errors)
        section.broken = section.broken or self.broken  # report a broken parent only once
        return section

    def finish(self) -> None:
        unknown_keys = sorted(str(k) for k in self.data if k not in self.used)
        known = sorted(self.used)
        for unknown in unknown_keys[:MAX_REPORTED]:
            fix = did_you_mean(unknown, known) or "known keys here: " + ", ".join(known)
            self.fail(unknown, "is not a known setting", fix)
        if len(unknown_keys) > MAX_REPORTED and not self.broken:
            self.errors.append(
                ConfigError(
                    self.path,
                    f"has {len(unknown_keys) - MAX_REPORTED:,} more keys that are not settings",
                    field=self.prefix or None,
                    fix="known keys here: " + ", ".join(known),
                )
            )


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the text {quote(value)}"
    return f"{type(value).__name__} {quote(value)}"


def _timezone(section: _Section, name: str, default: str) -> ZoneInfo:
    zone_name = section.text(name, default, limit=60)
    assert zone_name is not None
    try:
        return ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        section.fail(
            name,
            f"unknown time zone {quote(zone_name)}",
            "use an IANA name such as Europe/Amsterdam",
        )
        return ZoneInfo(default) if default != zone_name else ZoneInfo("Europe/Amsterdam")


def _person(section: _Section, name: str, *, required: bool) -> Person | None:
    raw = section.data.get(name)
    if isinstance(raw, str | bool):
        person_name = section.text(name, limit=100)
        return Person(name=person_name) if person_name else None
    if raw is None and not required:
        section.used.add(name)
        return None
    sub = section.section(name)
    person_name = sub.text("name", required=True, limit=100)
    person = Person(name=person_name or "", email=sub.email("email"))
    sub.finish()
    return person


def _logo(section: _Section, base_url: str, title: str) -> Logo | None:
    """Read ``site.logo``: a URL, or a mapping of ``url``, ``alt`` and ``width``."""
    raw = section.raw("logo")
    if raw is None:
        return None
    https = frozenset({"https"})  # mail clients block images over http://
    if isinstance(raw, str):
        url = _site_url(section, "logo", base_url, https)
        return Logo(url=url, alt=title or "Logo") if url else None
    sub = section.section("logo")
    url = _site_url(sub, "url", base_url, https)
    if url is None and sub.raw("url") is None:
        sub.fail("url", "is required", "add 'url:' with the logo's address")
    alt = sub.text("alt", required=True, limit=200)
    width = sub.number("width", 160, 16, 544)
    sub.finish()
    if url is None or alt is None:
        return None
    return Logo(url=url, alt=alt, width=width)


# Written raw into the .eml, the HTML and the URL: only characters that URL normalization
# keeps as they are (RFC 3986 unreserved), so the placeholder survives byte for byte.
_RECIPIENT_PLACEHOLDER = re.compile(r"[A-Za-z0-9_.~-]{3,60}")


def _recipient_placeholder(section: _Section, url: str | None) -> str | None:
    value = section.text("recipient_placeholder", limit=60)
    if value is None:
        return None
    if not _RECIPIENT_PLACEHOLDER.fullmatch(value):
        section.fail(
            "recipient_placeholder",
            f"{quote(value)} is not a usable placeholder",
            "use 3 to 60 letters, digits, '_', '.', '~' or '-', e.g. __LEZER__",
        )
        return None
    if url is None and section.data.get("unsubscribe_url") is not None:
        return None  # the URL itself is refused, and that error names it
    if not url or value not in url:
        section.fail(
            "recipient_placeholder",
            f"{quote(value)} does not occur in digest.unsubscribe_url",
            "put it where the sending tool writes each reader's own token, e.g. "
            "https://www.example.nl/afmelden/?lezer=__LEZER__",
        )
        return None
    return value


_WEB = frozenset({"http", "https"})


def _is_ip_address(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _site_url(
    section: _Section, name: str, base_url: str, schemes: frozenset[str] = _WEB
) -> str | None:
    """Read an image URL: absolute http(s) or site-relative; percent-encode it."""
    from nieuwsbrief.urls import absolute_url

    value = section.text(name, limit=2000)
    if value is None:
        return None
    try:
        if value.strip().startswith("//"):
            # Protocol-relative: not on this site but on whatever host follows the //.
            raise ValueError("is protocol-relative (//host/...), not a site-relative path")
        return absolute_url(value, base_url + "/", schemes)
    except ValueError as exc:
        section.fail(
            name, f"{quote(value)} {exc}", "use a path such as /logo.png or an https:// address"
        )
        return None


def _tag_date(section: _Section) -> str | None:
    value = section.text("tag_date", limit=20)
    if value is None:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    section.fail(
        "tag_date",
        f"{quote(value)} is not a date",
        "write the day the site first owned its domain as YYYY-MM-DD, e.g. 2025-10-01",
    )
    return None


def _weekday(section: _Section) -> int:
    value = section.text("weekday", "monday", limit=40)
    assert value is not None
    value = value.lower()
    for names in (WEEKDAYS, DUTCH_WEEKDAYS):
        if value in names:
            return names.index(value)
    hint = did_you_mean(value, WEEKDAYS + DUTCH_WEEKDAYS)
    section.fail(
        "weekday",
        f"{quote(value)} is not a day of the week",
        (f"{hint} " if hint else "")
        + "use monday, tuesday, wednesday, thursday, friday, saturday or sunday, "
        "or in Dutch maandag, dinsdag, woensdag, donderdag, vrijdag, zaterdag or zondag",
    )
    return 0


def _send_time(section: _Section) -> dt.time:
    raw = section.text("time", "08:00", limit=20)
    assert raw is not None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        section.fail("time", f"{quote(raw)} is not a time of day", "write it as HH:MM, e.g. 08:00")
        return dt.time(8, 0)
    return dt.time(int(match[1]), int(match[2]))


def _site_path(section: _Section, name: str, default: str) -> str:
    value = section.text(name, default, limit=200)
    assert value is not None
    if not _PATH.fullmatch(value) or ".." in value.split("/"):
        section.fail(
            name,
            f"{quote(value)} is not a plain path",
            "use letters, digits, '-', '_', '.' and '/', e.g. /artikelen/",
        )
        return default
    return value


SUBJECT_FIELDS = ("site", "week", "week_number", "year", "count", "date")


def _subject(section: _Section) -> str:
    subject = section.text("subject", DigestSettings.subject, limit=200)
    assert subject is not None
    fix = "use only " + ", ".join("{" + known + "}" for known in SUBJECT_FIELDS)
    try:
        parsed = list(string.Formatter().parse(subject))
    except ValueError as exc:
        section.fail("subject", f"is not a valid template: {exc}", fix + "; write {{ for a {")
        return DigestSettings.subject
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in SUBJECT_FIELDS:
            hint = did_you_mean(name, SUBJECT_FIELDS)
            section.fail(
                "subject",
                f"uses the unknown placeholder {quote('{' + name + '}')}",
                f"{hint} {fix}" if hint else fix,
            )
            return DigestSettings.subject
        if spec or conversion:
            section.fail(
                "subject",
                f"placeholder {{{name}}} has a format or conversion",
                f"write plain {{{name}}}, without ':' or '!'",
            )
            return DigestSettings.subject
    return subject


def _phone(section: _Section, name: str) -> str | None:
    value = section.text(name, limit=40)
    if value is not None and (
        not re.fullmatch(r"[0-9 +().-]+", value) or len(re.sub(r"\D", "", value)) < 3
    ):
        section.fail(name, f"{quote(value)} is not a phone number", "write it as 020 123 4567")
        return None
    return value


def parse_settings(data: object, path: Path) -> Settings:
    """Validate the parsed YAML of a settings file into ``Settings``.

    Raise ``InvalidSettings`` holding every problem found, one per key.
    """
    errors: list[ConfigError] = []
    if not isinstance(data, Mapping):
        _Section(path, "", data, errors)
        raise InvalidSettings(errors)
    root = _Section(path, "", data, errors)

    site = root.section("site")
    base_url = site.url("base_url", required=True)
    if base_url is not None and (urlsplit(base_url).query or urlsplit(base_url).fragment):
        site.fail("base_url", f"{quote(base_url)} has a query or fragment", "give the site root")
    if base_url is not None and _is_ip_address(urlsplit(base_url).hostname or ""):
        # Message-ID and List-Id are built from the host: an IP literal makes them invalid.
        site.fail(
            "base_url",
            f"{quote(base_url)} is an IP address, not a domain name",
            "give the website's domain name, e.g. https://www.example.nl",
        )
    articles_path = "/" + _site_path(site, "articles_path", "/artikelen/").strip("/") + "/"
    contact = site.section("contact")
    contact_settings = Contact(
        phone=_phone(contact, "phone"),
        whatsapp=_phone(contact, "whatsapp"),
        email=contact.email("email"),
        booking_url=contact.url("booking_url"),
        booking_text=contact.text("booking_text", "Maak een afspraak", limit=80)
        or "Maak een afspraak",
        address=contact.text("address", lines=True, limit=300),
    )
    contact.finish()
    author = _person(site, "author", required=True)
    language = site.text("language", "nl", limit=10) or "nl"
    if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2})?", language):
        site.fail("language", f"{quote(language)} is not a language code", "use nl")
        language = "nl"
    title = site.text("title", required=True, limit=200) or ""
    site_base = (base_url or "https://example.invalid").rstrip("/")
    logo = _logo(site, site_base, title)
    site_settings = SiteSettings(
        title=title,
        base_url=site_base,
        description=site.text("description", required=True, lines=True, limit=1000) or "",
        author=author or Person(name=""),
        language=language,
        timezone=_timezone(site, "timezone", "Europe/Amsterdam"),
        articles_path=articles_path.replace("//", "/"),
        contact=contact_settings,
        logo=logo,
        address_form=site.choice("address_form", "je", ("je", "u")),
        icon=_site_url(site, "icon", site_base),
        copyright=site.text("copyright", limit=300),
        tag_date=_tag_date(site),
    )
    site.finish()

    feeds = root.section("feeds")
    feed_settings = FeedSettings(
        limit=feeds.number("limit", 20, 1, 1000),
        path="/" + _site_path(feeds, "path", "/").strip("/"),
        archive_size=feeds.number("archive_size", 50, 1, 1000),
        websub_hub=feeds.url("websub_hub"),
    )
    feeds.finish()

    digest = root.section("digest")
    sender = _person(digest, "from", required=False)
    unsubscribe_url = digest.url("unsubscribe_url", schemes=("https",))
    if unsubscribe_url is not None:
        # RFC 2369 separates the targets of List-Unsubscribe with commas.
        unsubscribe_url = unsubscribe_url.replace(",", "%2C")
    digest_settings = DigestSettings(
        weekday=_weekday(digest),
        time=_send_time(digest),
        timezone=_timezone(digest, "timezone", site_settings.timezone.key),
        max_items=digest.number("max_items", 10, 1, 100),
        empty_week=digest.choice("empty_week", "skip", ("skip", "send")),
        subject=_subject(digest),
        preheader=digest.text("preheader", lines=True, limit=300),
        intro=digest.text("intro", lines=True, limit=2000),
        sender=sender,
        reply_to=digest.email("reply_to"),
        mail_service=digest.choice("mail_service", "generic", MAIL_SERVICE_NAMES),
        unsubscribe_url=unsubscribe_url,
        unsubscribe_mailto=digest.email("unsubscribe_mailto"),
        recipient_placeholder=_recipient_placeholder(digest, unsubscribe_url),
        max_html_bytes=digest.number("max_html_bytes", 100_000, 1, 10_000_000),
        topics=_text_list(digest, "topics", ()),
    )
    from_author = sender is None and author is not None
    # Only when the sender was read without errors: otherwise that error says it already.
    sender_errors = site.broken or any(
        (e.field or "").startswith(("site.author", "digest.from")) for e in errors
    )
    chosen = sender or author
    if chosen is not None and not chosen.email and not sender_errors:
        digest.fail(
            "from",
            "has no email address"
            + (" (none in digest.from, nor in site.author)" if from_author else ""),
            "add 'email:' under digest.from; the digest is sent from that address",
        )
    if (
        digest_settings.mail_service == "generic"
        and not digest_settings.unsubscribe_url
        and not digest_settings.unsubscribe_mailto
        and not {"digest.unsubscribe_url", "digest.unsubscribe_mailto"} & {e.field for e in errors}
    ):
        digest.fail(
            "unsubscribe_url",
            "is required with mail_service: generic",
            "give the https URL of your unsubscribe page, or choose your mail service's profile",
        )
    digest.finish()

    smtp = root.section("smtp")
    if "password" in smtp.data:
        smtp.used.add("password")
        smtp.fail(
            "password",
            "must not be stored in the project",
            "set the environment variable named by smtp.password_env instead",
        )
    security = smtp.choice("security", "starttls", ("starttls", "ssl", "none"))
    host = smtp.text("host", "localhost", limit=253) or "localhost"
    try:
        host = _hostname(host).strip("[]")
    except ValueError as exc:
        smtp.fail("host", str(exc), "write a host name such as smtp.example.nl")
    if security == "none" and not is_loopback(host):
        smtp.fail(
            "security",
            f"'none' would send the password unencrypted to {quote(host)}",
            "use starttls or ssl; 'none' is allowed only for localhost",
        )
    password_env = smtp.text("password_env", "NIEUWSBRIEF_SMTP_PASSWORD", limit=64)
    if password_env is not None and not _ENV_NAME.fullmatch(password_env):
        smtp.fail(
            "password_env",
            f"{quote(password_env)} is not an environment variable name",
            "use letters, digits and '_', e.g. NIEUWSBRIEF_SMTP_PASSWORD",
        )
    smtp_settings = SmtpSettings(
        host=host,
        port=smtp.number("port", 465 if security == "ssl" else 587, 1, 65535),
        security=security,
        user=smtp.text("user", limit=254),
        password_env=password_env or "NIEUWSBRIEF_SMTP_PASSWORD",
        timeout=smtp.number("timeout", 20, 1, 600),
    )
    smtp.finish()
    topic_settings = _topic_settings(root)
    root.finish()
    if errors:
        raise InvalidSettings(errors)
    return Settings(
        site=site_settings,
        feeds=feed_settings,
        digest=digest_settings,
        path=path,
        smtp=smtp_settings,
        raw=data,
        topics=topic_settings,
    )


def _text_list(section: _Section, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """Return a list of short one-line texts (tags); refuse anything else, naming the key."""
    value = section.raw(name)
    if value is None:
        return default
    fix = f"write {name}: [angst, slaap]"
    if not isinstance(value, list):
        section.fail(name, f"must be a list, not {_kind(value)}", fix)
        return default
    if len(value) > 200:
        section.fail(name, f"has {len(value):,} entries, more than 200", "shorten the list")
        return default
    found: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            shown = "an empty entry" if item is None else _kind(item)
            section.fail(name, f"holds {shown}, which is not a tag", fix)
            return default
        text = item.strip()
        if len(text) > 100 or _LINE_BREAK_OR_CONTROL.search(text):
            section.fail(name, f"holds {quote(text)}, not a one-line tag", "shorten it")
            return default
        if problem := header_text_problem(text):
            section.fail(name, *problem)
            return default
        if text not in found:
            found.append(text)
    return tuple(found)


_DATE_FIELDS = frozenset({"d", "dd", "m", "mm", "yyyy", "month"})


def _date_format(section: _Section) -> str:
    value = section.text("date_format", TopicSettings.date_format, limit=60)
    assert value is not None
    fix = "use {d}, {dd}, {m}, {mm}, {yyyy} and {month}, e.g. {d}-{m}-{yyyy}"
    try:
        parsed = [part for part in string.Formatter().parse(value) if part[1] is not None]
    except ValueError as exc:
        section.fail("date_format", f"is not a valid format: {exc}", fix)
        return TopicSettings.date_format
    if any(spec or conversion for _, _, spec, conversion in parsed):
        # "{d:>999999999}" would build a text of any size.
        section.fail("date_format", "has a format spec or conversion after a date part", fix)
        return TopicSettings.date_format
    fields = {name for _, name, _, _ in parsed if name is not None}
    unknown = sorted(fields - _DATE_FIELDS)
    if unknown or not fields:
        what = f"{{{unknown[0]}}} is not a date part" if unknown else "holds no date part"
        section.fail("date_format", what, fix)
        return TopicSettings.date_format
    return value


def _topic_settings(root: _Section) -> TopicSettings:
    topics = root.section("topics")
    names_section = topics.section("names")
    names: list[tuple[str, TopicInfo]] = []
    for key in list(names_section.data)[:500]:
        tag = str(key).strip()
        sub = names_section.section(str(key))
        if not tag or len(tag) > 100 or _LINE_BREAK_OR_CONTROL.search(tag):
            names_section.fail(str(key)[:60], "is not a one-line tag", "write the tag as in tags:")
            continue
        if problem := header_text_problem(tag):
            names_section.fail(str(key)[:60], *problem)
            continue
        info = TopicInfo(
            name=sub.text("name", limit=100),
            description=sub.text("description", lines=True, limit=500),
        )
        sub.finish()
        names.append((tag, info))
    names_section.finish()
    settings = TopicSettings(
        list_size=topics.number("list_size", 10, 1, 100),
        related_size=topics.number("related_size", 5, 1, 50),
        date_format=_date_format(topics),
        names=tuple(names),
        crisis_topics=_text_list(topics, "crisis_topics", TopicSettings.crisis_topics),
        crisis_notice=topics.text("crisis_notice", limit=500),
    )
    topics.finish()
    return settings


def _outside_project(path: Path) -> bool:
    """Tell whether ``path`` is a symbolic link that leads out of its folder."""
    if not path.is_symlink():
        return False
    try:
        return not path.resolve(strict=True).is_relative_to(path.parent.resolve())
    except (OSError, RuntimeError):
        return True


def read_settings_text(path: Path) -> str:
    """Read a settings file as text: a regular UTF-8 file inside its folder, of bounded size."""
    if _outside_project(path):
        raise ConfigError(
            path,
            "is a symbolic link to a file outside the project",
            fix="copy the settings into the project folder instead of linking to them",
        )
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise ConfigError(path, "is not a regular file", fix="make schedule.yaml a text file")
        with path.open("rb") as file:
            data = file.read(MAX_SETTINGS_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            path,
            "settings file not found",
            fix="run 'nieuwsbrief init', or choose the project folder that holds it",
        ) from None
    except OSError as exc:
        raise ConfigError(path, f"cannot be read: {exc.strerror}") from None
    if len(data) > MAX_SETTINGS_BYTES:
        raise ConfigError(
            path,
            f"is larger than {MAX_SETTINGS_BYTES:,} bytes",
            fix="keep only the settings in it",
        )
    try:
        return data.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            path, f"is not UTF-8 text ({exc.reason})", fix="save it as UTF-8"
        ) from None


def load_settings(path: Path) -> Settings:
    """Read and validate a ``schedule.yaml``."""
    text = read_settings_text(path)
    try:
        data = load_yaml(text)
    except DuplicateKeyError as exc:
        raise ConfigError(path, exc.problem, field=exc.key, fix=exc.fix) from None
    except YamlRefused as exc:
        raise ConfigError(
            path,
            exc.describe(),
            fix=exc.fix or "check quotes and indentation; indent nested keys with spaces",
        ) from None
    if data is None:
        raise ConfigError(path, "is empty", fix="add the site: settings")
    return parse_settings(data, path)
