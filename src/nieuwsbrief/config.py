"""Read ``schedule.yaml`` into typed, validated settings."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from nieuwsbrief.errors import ConfigError
from nieuwsbrief.mail import MAIL_SERVICES
from nieuwsbrief.yamlsafe import DuplicateKeyError, StrictSafeLoader

SETTINGS_FILE = "schedule.yaml"

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Editors are Dutch; accept the Dutch weekday names as well as the English ones.
DUTCH_WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")

MAIL_SERVICE_NAMES = tuple(MAIL_SERVICES)

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")

T = TypeVar("T")


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
    logo: Logo | None = None
    # How the email addresses its readers: informal "je" or formal "u".
    address_form: str = "je"

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

    @property
    def project_dir(self) -> Path:
        """Return the folder holding ``schedule.yaml``, ``articles/`` and ``templates/``."""
        return self.path.parent

    def localize(self, moment: dt.datetime) -> dt.datetime:
        """Read a moment without an offset (such as a bare ``--now``) in the site's time zone."""
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=self.site.timezone)


class _Section:
    """Take typed values out of one mapping of schedule.yaml, naming the key on error."""

    def __init__(self, path: Path, prefix: str, data: object) -> None:
        self.path = path
        self.prefix = prefix
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError(
                path,
                f"must be a mapping of keys to values, not {_kind(data)}",
                field=prefix,
                fix="write 'key: value' lines, as in the schedule.yaml of 'nieuwsbrief init'",
            )
        self.data: Mapping[str, Any] = data
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, problem: str, fix: str | None = None) -> ConfigError:
        return ConfigError(self.path, problem, field=self.key(name), fix=fix)

    def get(
        self, name: str, kind: type[T], default: T | None = None, *, required: bool = False
    ) -> T:
        self.used.add(name)
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                raise self.error(name, "is required", f"add '{name}:' to the settings")
            return default  # type: ignore[return-value]
        if kind is int and isinstance(value, bool):
            raise self.error(name, f"must be a whole number, not {value!r}")
        if kind is str and isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, kind):
            raise self.error(name, f"must be {_type_name(kind)}, not {_kind(value)}")
        return value

    def section(self, name: str) -> _Section:
        self.used.add(name)
        return _Section(self.path, self.key(name), self.data.get(name))

    def finish(self) -> None:
        unknown = sorted(str(k) for k in self.data if k not in self.used)
        if unknown:
            known = ", ".join(sorted(self.used))
            raise self.error(unknown[0], "is not a known setting", f"known keys here: {known}")


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"{type(value).__name__} {value!r}"


def _type_name(kind: type) -> str:
    return {str: "text", int: "a whole number", bool: "true or false", list: "a list"}.get(
        kind, kind.__name__
    )


def _timezone(section: _Section, name: str, default: str) -> ZoneInfo:
    zone_name = section.get(name, str, default)
    try:
        return ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise section.error(
            name,
            f"unknown time zone {zone_name!r}",
            "use an IANA name such as Europe/Amsterdam",
        ) from None


def _email(section: _Section, name: str) -> str | None:
    value = section.get(name, str)
    if value is not None and not _EMAIL.match(value):
        raise section.error(
            name, f"{value!r} is not an email address", "write it as name@domain.nl"
        )
    return value


def _person(section: _Section, name: str, *, required: bool) -> Person | None:
    raw = section.data.get(name)
    if isinstance(raw, str):
        section.used.add(name)
        return Person(name=raw)
    if raw is None and not required:
        section.used.add(name)
        return None
    sub = section.section(name)
    person = Person(name=sub.get("name", str, required=True), email=_email(sub, "email"))
    sub.finish()
    return person


def _http_url(section: _Section, name: str, *, required: bool = False) -> str | None:
    value = section.get(name, str, required=required)
    if value is None:
        return None
    if not re.match(r"^https?://[^/\s]+", value):
        raise section.error(
            name,
            f"{value!r} is not an absolute http(s) URL",
            "start it with https:// and the domain, e.g. https://www.example.nl",
        )
    return value


def _logo(section: _Section) -> Logo | None:
    if section.data.get("logo") is None:
        section.used.add("logo")
        return None
    sub = section.section("logo")
    url = _http_url(sub, "url", required=True)
    assert url is not None
    if not url.startswith("https://"):
        raise sub.error("url", "must be an https URL", "mail clients block images over http://")
    alt = sub.get("alt", str, required=True).strip()
    if not alt:
        raise sub.error("alt", "is empty", "write the practice's name, shown when images are off")
    width = sub.get("width", int, 160)
    if not 16 <= width <= 544:
        raise sub.error("width", f"must be 16 to 544 pixels, not {width}")
    sub.finish()
    return Logo(url=url, alt=alt, width=width)


_HEADER_URL = re.compile(r"https://[^\s<>\"'\x00-\x1f\x7f]+")
# Written raw into the .eml and the HTML: no whitespace, nothing HTML or quoted-printable
# would escape (& < > " ' =), printable ASCII only.
_RECIPIENT_PLACEHOLDER = re.compile(r"[!#-%(-;?-~]{3,60}")


def _recipient_placeholder(section: _Section, url: str | None) -> str | None:
    value = section.get("recipient_placeholder", str)
    if value is None:
        return None
    if not _RECIPIENT_PLACEHOLDER.fullmatch(value):
        raise section.error(
            "recipient_placeholder",
            f"{_short(value)} is not a usable placeholder",
            "use 3 to 60 plain ASCII characters without spaces, quotes, &, <, > or =, "
            "e.g. __LEZER__",
        )
    if not url or value not in url:
        raise section.error(
            "recipient_placeholder",
            f"{_short(value)} does not occur in digest.unsubscribe_url",
            "put it where the sending tool writes each reader's own token, e.g. "
            "https://www.example.nl/afmelden/?lezer=__LEZER__",
        )
    return value


def _short(value: str) -> str:
    """Quote a user value short, with control characters escaped."""
    text = value if len(value) <= 60 else value[:57] + "..."
    return repr(text)


def _weekday(section: _Section) -> int:
    value = section.get("weekday", str, "monday").strip().lower()
    for names in (WEEKDAYS, DUTCH_WEEKDAYS):
        if value in names:
            return names.index(value)
    raise section.error(
        "weekday", f"{value!r} is not a day of the week", "use monday, tuesday, ... or sunday"
    )


def _send_time(section: _Section) -> dt.time:
    section.used.add("time")
    raw = section.data.get("time", "08:00")
    if isinstance(raw, int) and not isinstance(raw, bool):
        # YAML 1.1 reads an unquoted 08:00 as the sexagesimal number 480.
        raw = f"{raw // 60:02d}:{raw % 60:02d}"
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(raw).strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise section.error(
            "time", f"{raw!r} is not a time of day", "write it as HH:MM, e.g. 08:00"
        )
    return dt.time(int(match[1]), int(match[2]))


def _positive(section: _Section, name: str, default: int) -> int:
    value = section.get(name, int, default)
    if value < 1:
        raise section.error(name, f"must be 1 or more, not {value}")
    return value


def _choice(section: _Section, name: str, default: str, choices: tuple[str, ...]) -> str:
    value = section.get(name, str, default).strip().lower()
    if value not in choices:
        raise section.error(name, f"{value!r} is not one of {', '.join(choices)}")
    return value


SUBJECT_FIELDS = ("site", "week", "week_number", "year", "count", "date")


def _check_subject(section: _Section, subject: str) -> None:
    import string

    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(subject) if name is not None]
    except ValueError as exc:
        raise section.error("subject", f"is not a valid template: {exc}") from None
    for name in fields:
        if name not in SUBJECT_FIELDS:
            raise section.error(
                "subject",
                f"uses the unknown placeholder {{{name}}}",
                "use " + ", ".join("{" + known + "}" for known in SUBJECT_FIELDS),
            )


def parse_settings(data: object, path: Path) -> Settings:
    """Validate the parsed YAML of a settings file into ``Settings``."""
    root = _Section(path, "", data)

    site = root.section("site")
    base_url = _http_url(site, "base_url", required=True)
    assert base_url is not None
    articles_path = "/" + site.get("articles_path", str, "/artikelen/").strip("/") + "/"
    contact = site.section("contact")
    contact_settings = Contact(
        phone=contact.get("phone", str),
        whatsapp=contact.get("whatsapp", str),
        email=_email(contact, "email"),
        booking_url=_http_url(contact, "booking_url"),
        booking_text=contact.get("booking_text", str, "Maak een afspraak"),
        address=contact.get("address", str),
    )
    contact.finish()
    logo = _logo(site)
    author = _person(site, "author", required=True)
    assert author is not None
    language = site.get("language", str, "nl")
    if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2})?", language):
        raise site.error("language", f"{language!r} is not a language code", "use nl")
    site_settings = SiteSettings(
        title=site.get("title", str, required=True),
        base_url=base_url.rstrip("/"),
        description=site.get("description", str, required=True),
        author=author,
        language=language,
        timezone=_timezone(site, "timezone", "Europe/Amsterdam"),
        articles_path=articles_path.replace("//", "/"),
        contact=contact_settings,
        logo=logo,
        address_form=_choice(site, "address_form", "je", ("je", "u")),
    )
    site.finish()

    feeds = root.section("feeds")
    feed_settings = FeedSettings(
        limit=_positive(feeds, "limit", 20),
        path="/" + feeds.get("path", str, "/").strip("/"),
    )
    feeds.finish()

    digest = root.section("digest")
    sender = _person(digest, "from", required=False)
    unsubscribe_url = digest.get("unsubscribe_url", str)
    if unsubscribe_url is not None and not unsubscribe_url.startswith("https://"):
        raise digest.error(
            "unsubscribe_url",
            f"{unsubscribe_url!r} is not an https URL",
            "one-click unsubscribe (RFC 8058) needs https://",
        )
    if unsubscribe_url is not None and not _HEADER_URL.fullmatch(unsubscribe_url):
        # It goes into the List-Unsubscribe header and an href, byte for byte.
        raise digest.error(
            "unsubscribe_url",
            f"{_short(unsubscribe_url)} holds spaces, quotes, < > or control characters",
            "percent-encode them (a space is %20)",
        )
    digest_settings = DigestSettings(
        weekday=_weekday(digest),
        time=_send_time(digest),
        timezone=_timezone(digest, "timezone", site_settings.timezone.key),
        max_items=_positive(digest, "max_items", 10),
        empty_week=_choice(digest, "empty_week", "skip", ("skip", "send")),
        subject=digest.get("subject", str, DigestSettings.subject),
        preheader=digest.get("preheader", str),
        intro=digest.get("intro", str),
        sender=sender,
        reply_to=_email(digest, "reply_to"),
        mail_service=_choice(digest, "mail_service", "generic", MAIL_SERVICE_NAMES),
        unsubscribe_url=unsubscribe_url,
        unsubscribe_mailto=_email(digest, "unsubscribe_mailto"),
        recipient_placeholder=_recipient_placeholder(digest, unsubscribe_url),
        max_html_bytes=_positive(digest, "max_html_bytes", 100_000),
    )
    _check_subject(digest, digest_settings.subject)
    if (
        digest_settings.mail_service == "generic"
        and not digest_settings.unsubscribe_url
        and not digest_settings.unsubscribe_mailto
    ):
        raise digest.error(
            "unsubscribe_url",
            "is required with mail_service: generic",
            "give the https URL of your unsubscribe page, or choose your mail service's profile",
        )
    digest.finish()

    smtp = root.section("smtp")
    if "password" in smtp.data:
        raise smtp.error(
            "password",
            "must not be stored in the project",
            "set the environment variable named by smtp.password_env instead",
        )
    security = _choice(smtp, "security", "starttls", ("starttls", "ssl", "none"))
    smtp_settings = SmtpSettings(
        host=smtp.get("host", str, "localhost"),
        port=_positive(smtp, "port", 465 if security == "ssl" else 587),
        security=security,
        user=smtp.get("user", str),
        password_env=smtp.get("password_env", str, "NIEUWSBRIEF_SMTP_PASSWORD"),
        timeout=_positive(smtp, "timeout", 20),
    )
    smtp.finish()
    root.finish()
    if not isinstance(data, Mapping):  # pragma: no cover - _Section already refused it
        raise ConfigError(path, "must be a mapping")
    return Settings(
        site=site_settings,
        feeds=feed_settings,
        digest=digest_settings,
        path=path,
        smtp=smtp_settings,
        raw=data,
    )


def load_settings(path: Path) -> Settings:
    """Read and validate a ``schedule.yaml``."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            path, "settings file not found", fix="run 'nieuwsbrief init' or pass --project DIR"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            path, f"is not UTF-8 text ({exc.reason})", fix="save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(path, f"cannot be read: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=StrictSafeLoader)  # noqa: S506 - a SafeLoader subclass
    except DuplicateKeyError as exc:
        raise ConfigError(
            path,
            f"is written twice (again on line {exc.line + 1})",
            field=exc.key,
            fix="keep only one of them",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            path,
            f"is not valid YAML{where}: {getattr(exc, 'problem', exc)}",
            fix="check quotes and indentation; indent nested keys with spaces",
        ) from None
    if data is None:
        raise ConfigError(path, "is empty", fix="add the site: settings")
    return parse_settings(data, path)
