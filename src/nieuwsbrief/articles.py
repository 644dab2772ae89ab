"""Read article files (Markdown with YAML front matter) into validated ``Article`` objects."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nieuwsbrief.config import SiteSettings, did_you_mean
from nieuwsbrief.errors import (
    MAX_YEAR,
    MIN_YEAR,
    QUOTE_LIMIT,
    ArticleError,
    NieuwsbriefError,
    is_hidden,
    quote,
)
from nieuwsbrief.markup import (
    first_paragraph_text,
    render_markdown,
    strip_xml_illegal,
    teaser,
)
from nieuwsbrief.spool import SpooledText
from nieuwsbrief.urls import absolute_url, slugify
from nieuwsbrief.yamlsafe import DuplicateKeyError, YamlRefused, load_yaml

ARTICLES_DIR = "articles"
SUMMARY_LIMIT = 200
MAX_ARTICLE_BYTES = 2_000_000

KNOWN_KEYS = frozenset(
    {
        "title",
        "date",
        "summary",
        "tags",
        "author",
        "image",
        "image_alt",
        "draft",
        "slug",
        "updated",
        "id",
        "crisis_notice",
    }
)
# Keys other tools (Hugo, Jekyll) write that we accept and ignore rather than refuse.
IGNORED_KEYS = frozenset({"layout", "categories", "description", "lastmod", "weight", "aliases"})

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# A slug names files (related/<slug>.json) and a URL: well inside a file name's 255 bytes,
# which a file name like 'Ⅷ㎉…' can pass once its letters are spelled out in ASCII.
ARTICLE_SLUG_LIMIT = 200
DATED_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TEXT_LIMIT = 1000
MAX_TAGS = 30
# Line breaks of every kind; a title, tag or summary is one line of text.
_LINE_BREAKS = re.compile("[\n\v\f\x85\u2028\u2029]+")
# An explicit id: an absolute URI without spaces (tag:, urn:, https:, http:), as feed readers
# need; other schemes (javascript:, data:) are not ids and a reader might follow them.
_ID = re.compile(r"^(?:tag|urn|https|http):[!-~]+$", re.IGNORECASE)
MAX_ID_LENGTH = 200
_ZONE_SUFFIX = re.compile(r"^(.*\d)\s+([A-Za-z_]+(?:/[A-Za-z0-9_+-]+)+|UTC)$")


@dataclass(frozen=True)
class Article:
    """One published or unpublished article: validated metadata and its Markdown body.

    The body is rendered to HTML only when an output needs it, and then only once: a
    build of thousands of articles renders just the few that the feeds and digest show.
    """

    source: Path
    slug: str
    title: str
    date: dt.datetime
    updated: dt.datetime | None
    explicit_summary: str | None
    tags: tuple[str, ...]
    author: str | None
    image: str | None
    image_alt: str | None
    draft: bool
    url: str
    id: str
    # The Markdown body, kept in a temporary file (spool.py): at 10,000 articles the bodies
    # were ~43 MB of a build's memory, held for the whole build and read a few times each.
    stored_body: SpooledText = field(repr=False)
    # Front matter's crisis_notice: True/False overrides the topics; None follows them.
    crisis_notice: bool | None = None

    @property
    def body(self) -> str:
        """Return the Markdown body (after the front matter)."""
        return self.stored_body.text

    @property
    def last_modified(self) -> dt.datetime:
        """Return when the article last changed: ``updated`` or else ``date``."""
        return self.updated if self.updated and self.updated > self.date else self.date

    @cached_property
    def summary(self) -> str:
        """Return the teaser: the front matter's summary, or the cut first paragraph."""
        if self.explicit_summary is not None:
            return self.explicit_summary
        # Never empty: an article without any text is still announced by its title.
        return teaser(first_paragraph_text(self.body), SUMMARY_LIMIT) or self.title

    @cached_property
    def content_html(self) -> str:
        """Return the body as sanitized HTML with absolute links."""
        return render_markdown(self.body, self.url)


SHOWN_PROBLEMS = 100  # problem lines in one build error; the rest are counted


class InvalidArticles(NieuwsbriefError):
    """One or more article files are invalid; holds every problem found."""

    def __init__(self, errors: list[ArticleError]) -> None:
        self.errors = errors
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len({error.path for error in self.errors})  # one line per problem, many a file
        head = "1 article is invalid" if count == 1 else f"{count:,} articles are invalid"
        shown = self.errors[:SHOWN_PROBLEMS]
        lines = [head + ":"] + [f"  {error}" for error in shown]
        if rest := self.errors[SHOWN_PROBLEMS:]:
            # A whole folder gone wrong (a bad import, a wrong date format) would otherwise be a
            # message of tens of thousands of lines; check reports every problem, one per line.
            files = len({error.path for error in rest} - {error.path for error in shown})
            more = f"{len(rest):,} more problem{'s' if len(rest) > 1 else ''}"
            where = f" in {files:,} more file{'s' if files != 1 else ''}" if files else ""
            lines.append(f"  ... and {more}{where}; check lists every one")
        return "\n".join(lines)


def read_source(path: Path) -> str:
    """Read an article file as text: UTF-8 with or without BOM, any line ends.

    Only a regular file is read, and never more than the size limit: opening does not
    block on a FIFO, and a device or folder is refused.
    """
    import os
    import stat

    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ArticleError(path, f"cannot be read: {exc.strerror}") from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise ArticleError(
                path, "is not a regular file", fix="replace it with a Markdown text file"
            )
        size = status.st_size
        if size > MAX_ARTICLE_BYTES:
            raise ArticleError(
                path,
                f"is {size:,} bytes, more than the {MAX_ARTICLE_BYTES:,} an article may have",
                fix="split it up or remove embedded data",
            )
        with os.fdopen(os.dup(descriptor), "rb") as stream:
            # What read(MAX_ARTICLE_BYTES + 1) returns, without a buffer of that size per
            # file (an allocation of 2 MB that took longer than reading a 5 KB article):
            # the size fstat gave, and a byte more to see whether the file grew since.
            data = stream.read(size + 1)
            if len(data) > size:
                data += stream.read(MAX_ARTICLE_BYTES + 1 - len(data))
    except OSError as exc:
        raise ArticleError(path, f"cannot be read: {exc.strerror}") from None
    finally:
        os.close(descriptor)
    if len(data) > MAX_ARTICLE_BYTES:
        raise ArticleError(
            path,
            f"is more than the {MAX_ARTICLE_BYTES:,} bytes an article may have",
            fix="split it up or remove embedded data",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(
            path,
            f"is not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})",
            fix="save the file as UTF-8",
        ) from None
    # Control characters are illegal in XML and in YAML; they are never meant, so drop them.
    return strip_xml_illegal(text.replace("\r\n", "\n").replace("\r", "\n"))


def split_text(path: Path, text: str) -> tuple[str, str]:
    """Split an article's text into its raw front matter and its Markdown body."""
    from frontmatter.default_handlers import YAMLHandler

    handler = YAMLHandler()
    if not text.strip():
        raise ArticleError(path, "is empty", fix="start it with front matter between --- lines")
    if not handler.detect(text):
        raise ArticleError(
            path,
            "has no front matter",
            fix="start the file with a line '---', the title: and date: keys, and another '---'",
        )
    try:
        raw_front, body = handler.split(text)
    except ValueError:
        raise ArticleError(
            path, "front matter is never closed", fix="end it with a line holding only '---'"
        ) from None
    return raw_front, body


def split_front_matter(path: Path, text: str) -> tuple[dict[str, Any], str]:
    """Return the front matter mapping and the Markdown body of an article."""
    raw_front, body = split_text(path, text)
    # The raw front matter starts with the rest of the opening '---' line, so its line
    # numbers (from 1) are the file's.
    try:
        front = load_yaml(raw_front)
    except DuplicateKeyError as exc:
        raise ArticleError(
            path,
            f"appears twice in the front matter (again on line {exc.line})",
            field=exc.key,
            fix="keep only one of them",
        ) from None
    except YamlRefused as exc:
        where = f" on line {exc.line}" if exc.line is not None else ""
        problem = "is not valid YAML" if exc.syntax else "uses YAML that is not supported"
        raise ArticleError(
            path,
            f"front matter {problem}{where}: {exc.problem}",
            fix=exc.fix or "check quotes and colons; put titles with a colon between quotes",
        ) from None
    if front is None:
        front = {}
    if not isinstance(front, Mapping):
        raise ArticleError(
            path,
            f"front matter must be keys with values, not {type(front).__name__}",
            fix="write it as 'title: ...' lines",
        )
    return {str(key): value for key, value in front.items()}, body


def parse_datetime(value: object, zone: ZoneInfo) -> dt.datetime:
    """Parse an ISO 8601 date or date-time; a missing time is midnight, a missing zone ``zone``.

    Raises ValueError with a message fit for an editor.
    """
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str):
        text = value.strip()
        named_zone: ZoneInfo | None = None
        match = _ZONE_SUFFIX.match(text)
        if match:
            text = match[1]
            try:
                named_zone = ZoneInfo(match[2])
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"unknown time zone {quote(match[2])}; "
                    "use an IANA name such as Europe/Amsterdam"
                ) from None
        try:
            moment = dt.datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text else text)
        except ValueError:
            raise ValueError(
                f"{quote(value)} is not a date; write it as YYYY-MM-DD or "
                "YYYY-MM-DDTHH:MM:SS+01:00"
            ) from None
        if not _DATE_ONLY.match(text) and len(text) < 16:
            raise ValueError(f"{quote(value)} is not a date; write it as YYYY-MM-DD")
        if named_zone is not None:
            if moment.tzinfo is not None:
                raise ValueError(f"{quote(value)} has both an offset and a time zone name")
            zone = named_zone
    else:
        raise ValueError(f"{quote(value)} is not a date; write it as YYYY-MM-DD")
    return bounded_moment(moment, zone, value)


def bounded_moment(moment: dt.datetime, zone: ZoneInfo, value: object = None) -> dt.datetime:
    """Return ``moment`` in ``zone`` when it has no offset; refuse a year outside 1970-9000
    and a local time that the clocks skip (the hour daylight saving time starts).

    A local time that happens twice (the hour summer time ends) is read as the first one,
    still in summer time (``fold=0``).
    """
    shown = quote(value if value is not None else moment.isoformat())
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValueError(
            f"{shown} is outside the years {MIN_YEAR} to {MAX_YEAR}; check the year"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
        back = moment.astimezone(dt.UTC).astimezone(zone)
        if back.replace(tzinfo=None) != moment.replace(tzinfo=None):
            raise ValueError(
                f"{shown} does not exist in {zone.key}: the clocks skip that hour when "
                "daylight saving time starts; write the time after the change, or an offset"
            )
    return moment


def _text(path: Path, front: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = front.get(key)
    if value is not None and not isinstance(value, str):
        raise ArticleError(
            path,
            f"must be text, not {_kind(value)}",
            field=key,
            fix="put the value between quotes",
        )
    # Empty once control characters and line breaks are gone is empty.
    text = _clean(path, key, value) if value is not None else ""
    if not text:
        if required:
            raise ArticleError(path, "is missing or empty", field=key, fix=f"add '{key}: ...'")
        return None
    return text


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, list):
        return "a list"
    return "a mapping" if isinstance(value, dict) else type(value).__name__


def _clean(path: Path, key: str, value: str) -> str:
    """Return a text value as written, on one line, without XML-illegal characters."""
    if len(value) > TEXT_LIMIT:
        raise ArticleError(
            path,
            f"is {len(value):,} characters long, more than {TEXT_LIMIT:,}",
            field=key,
            fix="shorten it",
        )
    bidi = _BIDI_CONTROL.search(value)
    if bidi:
        raise ArticleError(
            path,
            f"holds an invisible direction control U+{ord(bidi[0]):04X}",
            field=key,
            fix="remove it",
        )
    return _LINE_BREAKS.sub(" ", strip_xml_illegal(value)).strip()


# Direction overrides and isolates make a one-line text read otherwise than written (a
# spoofed title in a feed reader or a mail's subject list); ZWJ/ZWNJ stay (emoji, scripts).
# Bodies keep them: there they are paragraph text that an editor may need for Arabic or
# Hebrew quotes, and a browser ends their effect at the end of the paragraph.
_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")
# The zero-width joiner and non-joiner shape emoji and scripts (Persian, Indic): a tag keeps
# them as the other one-line fields do. Hidden in a Latin word they change no topic: the
# topic's slug drops them, and check warns that two spellings are one topic.
_JOINERS = frozenset("\u200c\u200d")


def _tags(path: Path, front: Mapping[str, Any]) -> tuple[str, ...]:
    value = front.get("tags")
    if value is None:
        return ()
    if isinstance(value, str):
        raise ArticleError(
            path, "must be a list, not text", field="tags", fix="write tags: [angst, slaap]"
        )
    if not isinstance(value, list):
        raise ArticleError(
            path,
            f"must be a list, not {type(value).__name__}",
            field="tags",
            fix="write tags: [angst, slaap]",
        )
    if len(value) > MAX_TAGS:
        raise ArticleError(
            path,
            f"has {len(value):,} tags, more than {MAX_TAGS}",
            field="tags",
            fix="keep the few tags that describe the article",
        )
    tags: dict[str, None] = {}  # ordered and without duplicates, in linear time
    for tag in value:
        if not isinstance(tag, str):
            raise ArticleError(
                path,
                f"holds {_kind(tag) if tag is not None else 'an empty item'}, which is not text",
                field="tags",
                fix="put the tag between quotes",
            )
        hidden = next((char for char in tag if is_hidden(char) and char not in _JOINERS), None)
        if hidden is not None:
            # Dropping it would change the tag silently, and keeping it publishes a topic
            # that reads like another ("sla\u200bap" shows as "slaap" but is not).
            raise ArticleError(
                path,
                f"the tag {quote(tag)} holds an invisible or control character "
                f"U+{ord(hidden):04X}",
                field="tags",
                fix="remove it: retype the tag with visible letters and plain spaces only",
            )
        cleaned = _clean(path, "tags", tag)
        if cleaned:
            tags.setdefault(cleaned)
    return tuple(tags)


def _date(path: Path, front: Mapping[str, Any], key: str, zone: ZoneInfo) -> dt.datetime | None:
    value = front.get(key)
    if value is None or value == "":
        return None
    try:
        return parse_datetime(value, zone)
    except ValueError as exc:
        raise ArticleError(path, str(exc), field=key) from None


def _slug(path: Path, front: Mapping[str, Any]) -> str:
    slug = _text(path, front, "slug")
    if slug is not None and not SLUG.match(slug):
        raise ArticleError(
            path,
            f"{quote(slug)} is not a valid slug",
            field="slug",
            fix="use lowercase letters, digits and hyphens only, e.g. winterdip-tips",
        )
    if slug is None:
        match = DATED_NAME.match(path.stem)
        slug = slugify(match[2] if match else path.stem)
    if not slug:
        raise ArticleError(path, "file name gives an empty slug", field="slug", fix="add slug: ...")
    if len(slug) > ARTICLE_SLUG_LIMIT:
        raise ArticleError(
            path,
            f"the slug is {len(slug)} characters, more than {ARTICLE_SLUG_LIMIT}",
            field="slug",
            fix=f"set a shorter 'slug:' (at most {ARTICLE_SLUG_LIMIT} characters)",
        )
    return slug


def _tag_uri(site: SiteSettings, date: dt.datetime, slug: str) -> str:
    # A tag URI (RFC 4151) does not change when the title, the base URL's scheme or the
    # articles path change, so feed readers never see a published article twice. Its date
    # is the site's (site.tag_date), not the article's: correcting a date keeps the id.
    # Without site.tag_date, ids stay as projects published them before that setting.
    host = urlsplit(site.base_url).hostname or "localhost"
    return f"tag:{host},{site.tag_date or date.date().isoformat()}:{slug}"


def _explicit_id(path: Path, front: Mapping[str, Any]) -> str | None:
    value = _text(path, front, "id")
    if value is None:
        return None
    if len(value) > MAX_ID_LENGTH or not _ID.match(value):
        raise ArticleError(
            path,
            f"{quote(value)} is not a tag:, urn:, https: or http: URI without spaces",
            field="id",
            fix="keep the id the article was published with, e.g. tag:www.example.nl,2025-10-01:"
            "oude-slug",
        )
    return value


def _image(path: Path, front: Mapping[str, Any], url: str) -> str | None:
    image = _text(path, front, "image")
    if image is None:
        return None
    try:
        if image.strip().startswith("//"):
            # Protocol-relative: not on this site but on whatever host follows the //.
            raise ValueError("is protocol-relative (//host/...), not a site-relative path")
        return absolute_url(image, url, frozenset({"http", "https"}))
    except ValueError as exc:
        raise ArticleError(
            path,
            f"{quote(image)} {exc}",
            field="image",
            fix="use a path such as /images/foto.jpg or an https:// address",
        ) from None


def date_errors(articles: Iterable[Article], now: dt.datetime) -> list[ArticleError]:
    """Return an error for every published article whose ``updated`` lies after ``now``."""
    moment = now.astimezone(dt.UTC)
    return [
        ArticleError(
            article.source,
            f"{article.updated.isoformat()} is after now ({now.isoformat()})",
            field="updated",
            fix="write the date the article was last changed; a typo in the year?",
        )
        for article in articles
        if article.updated is not None
        and not article.draft
        and article.date.astimezone(dt.UTC) <= moment < article.updated.astimezone(dt.UTC)
    ]


_T = TypeVar("_T")


def parse_article(
    path: Path,
    text: str,
    site: SiteSettings,
    *,
    front_matter: tuple[dict[str, Any], str] | None = None,
) -> Article:
    """Validate one article's text; raise ``ArticleError`` naming the field at fault.

    ``front_matter``: the (front matter, body) of ``text`` already split, e.g. from a cache;
    it is validated exactly as if it had just been parsed.
    """
    front, body = front_matter if front_matter is not None else split_front_matter(path, text)
    # Every field is checked, and every problem reported at once (check lists them all); a
    # field that depends on one at fault (the id on the date and slug) is not judged again.
    problems: list[ArticleError] = []

    def checked(check: Callable[[], _T], default: _T) -> _T:
        try:
            return check()
        except ArticleError as exc:
            problems.append(exc)
            return default

    def refuse(problem: str, name: str, fix: str) -> None:
        problems.append(ArticleError(path, problem, field=name, fix=fix))

    unknown = sorted(set(front) - KNOWN_KEYS - IGNORED_KEYS)
    for key in unknown[:5]:
        # A key is the editor's text: short in the field (messages quote it with
        # errors.quote, escaping what cannot be seen), and the hint only for a short one.
        shown = key if len(key) <= QUOTE_LIMIT else key[:QUOTE_LIMIT] + "…"
        hint = did_you_mean(key, sorted(KNOWN_KEYS)) if len(key) <= QUOTE_LIMIT else None
        known = ", ".join(sorted(KNOWN_KEYS))
        fix = (f"{hint} " if hint else "") + "known keys: " + known
        refuse("is not a known front matter key", shown, fix)
    title = checked(lambda: _text(path, front, "title", required=True), None)
    zone = site.timezone
    date = checked(lambda: _date(path, front, "date", zone), None)
    date_ok = not problems or problems[-1].field != "date"
    if date is None and date_ok:
        match = DATED_NAME.match(path.stem)
        if not match:
            refuse(
                "is missing",
                "date",
                "add 'date: YYYY-MM-DD' or start the file name with the date",
            )
        else:
            try:
                date = parse_datetime(match[1], zone)
            except ValueError as exc:
                problems.append(ArticleError(path, f"file name date: {exc}", field="date"))
    updated = checked(lambda: _date(path, front, "updated", zone), None)
    if updated is not None and date is not None and updated < date:
        refuse(
            f"{updated.isoformat()} is before the date {date.isoformat()}",
            "updated",
            "an article is updated after it was published; fix the year, or remove updated:",
        )
    draft = front.get("draft", False)
    if not isinstance(draft, bool):
        refuse(
            f"must be true or false, not {quote(draft)}",
            "draft",
            "write draft: true or draft: false",
        )
    crisis_notice = front.get("crisis_notice")
    if crisis_notice is not None and not isinstance(crisis_notice, bool):
        refuse(
            f"must be true or false, not {quote(crisis_notice)}",
            "crisis_notice",
            "write crisis_notice: true or crisis_notice: false, or leave it out",
        )
    slug = checked(lambda: _slug(path, front), None)
    url = site.article_url(slug) if slug is not None else ""
    image = checked(lambda: _image(path, front, url), None) if slug is not None else None
    summary = checked(lambda: _text(path, front, "summary"), None)
    no_tags: tuple[str, ...] = ()
    tags = checked(lambda: _tags(path, front), no_tags)
    author = checked(lambda: _text(path, front, "author"), None)
    image_alt = checked(lambda: _text(path, front, "image_alt"), None)
    explicit_id = checked(lambda: _explicit_id(path, front), None)
    if problems:
        first = problems[0]
        first.also = tuple(problems[1:])
        raise first
    assert title is not None and date is not None and slug is not None
    return Article(
        source=path,
        slug=slug,
        title=title,
        date=date,
        updated=updated,
        explicit_summary=summary,
        tags=tags,
        author=author,
        image=image,
        image_alt=image_alt,
        draft=bool(draft),
        url=url,
        id=explicit_id or _tag_uri(site, date, slug),
        stored_body=SpooledText(body),
        crisis_notice=crisis_notice,
    )


def load_article(path: Path, site: SiteSettings) -> Article:
    """Read and validate one article file."""
    return parse_article(path, read_source(path), site)


ARTICLE_SUFFIXES = (".md", ".markdown")
_CODE = re.compile(
    r"^ {0,3}(`{3,}|~{3,}).*?(?:^ {0,3}\1|\Z)|(`+)[^`]*?\2", re.MULTILINE | re.DOTALL
)


@dataclass
class FolderScan:
    """What an articles folder holds: article files, and what else is there."""

    paths: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[ArticleError] = field(default_factory=list)


_NAME_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _not_read(directory: Path, name: str, reason: str) -> str:
    return f"{directory.name}/{quote(name)} is not read: {reason}"


def scan_folder(directory: Path) -> FolderScan:
    """Sort the entries of an articles folder into articles, warnings and errors.

    Articles are regular files (or symlinks to one inside the project) named ``*.md`` or
    ``*.markdown`` in any case. Hidden entries (``.name``) are skipped silently; anything
    else is named in a warning. A symlink that leads outside the project is an error.
    """
    import errno
    import os
    import stat

    scan = FolderScan()
    try:
        entries = sorted(entry.name for entry in directory.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return scan
    except OSError as exc:
        scan.warnings.append(f"{directory.name}/ cannot be listed: {exc.strerror}")
        return scan
    project = directory.absolute().parent.resolve()
    for name in entries:
        if name.startswith("."):
            continue
        path = directory / name
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            scan.warnings.append(
                _not_read(directory, name, "its name is not valid UTF-8; rename it")
            )
            continue
        if _NAME_CONTROL.search(name):
            scan.warnings.append(
                _not_read(directory, name, "its name holds control characters; rename it")
            )
            continue
        if any(is_hidden(char) for char in name):
            # A direction control makes the name read otherwise than it is ("…dm.live"), and
            # a zero-width character hides in it; shown escaped, like a control character.
            scan.warnings.append(
                _not_read(
                    directory, name, "its name holds invisible or direction characters; rename it"
                )
            )
            continue
        if not name.lower().endswith(ARTICLE_SUFFIXES):
            stripped = name.strip()
            hint = (
                "its name has white space around the extension; rename it"
                if stripped.lower().endswith(ARTICLE_SUFFIXES)
                else "only *.md and *.markdown files are articles"
            )
            scan.warnings.append(_not_read(directory, name, hint))
            continue
        try:
            # One lstat settles the usual case, a regular file that is not a link.
            status = os.lstat(path)
            link = stat.S_ISLNK(status.st_mode)
            if link:
                status = path.stat()
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                scan.warnings.append(_not_read(directory, name, "it is a symlink loop"))
                continue
            reason = (
                "it is a symlink that leads nowhere"
                if path.is_symlink()
                else f"it cannot be read ({exc.strerror})"
            )
            scan.warnings.append(_not_read(directory, name, reason))
            continue
        if not stat.S_ISREG(status.st_mode):
            kind = "a folder" if stat.S_ISDIR(status.st_mode) else "not a regular file"
            scan.warnings.append(_not_read(directory, name, f"it is {kind}"))
            continue
        if link:
            try:
                path.resolve(strict=True).relative_to(project)
            except (OSError, RuntimeError, ValueError):
                scan.errors.append(
                    ArticleError(
                        Path(directory.name, name),
                        "is a symlink that leads outside the project",
                        fix="copy the article into articles/ instead of linking to it",
                    )
                )
                continue
        scan.paths.append(path)
    return scan


def article_paths(directory: Path) -> list[Path]:
    """Return the article files of an articles folder, in a stable order."""
    return scan_folder(directory).paths


def _file_line(article: Article, body_line: int) -> int:
    """Turn a line number in an article's body into one in its file."""
    with contextlib.suppress(ArticleError):
        source = read_source(article.source)
        if source.endswith(article.body):
            return body_line + source.count("\n", 0, len(source) - len(article.body))
    return body_line


def check_article_body(article: Article) -> None:
    """Raise ``ArticleError`` naming the file line when the body is beyond the limits."""
    from nieuwsbrief.markup import body_problem

    problem = body_problem(article.body)
    if problem is None:
        return
    line, text, fix = problem
    line = _file_line(article, line)
    raise ArticleError(article.source, f"line {line} {text}", field="body", fix=fix)


def body_warnings(article: Article) -> list[str]:
    """Return what an editor should know about how the body renders (for ``check``)."""
    from nieuwsbrief.markup import RAW_TEXT_TAG, lost_text

    warnings: list[str] = []
    # Code is meant to show tags as text: blank it out, keeping the line numbers.
    prose = _CODE.sub(lambda match: re.sub(r"[^\n]", " ", match[0]), article.body)
    raw = RAW_TEXT_TAG.search(prose)
    if raw is not None:
        line = _file_line(article, article.body.count("\n", 0, raw.start()) + 1)
        warnings.append(
            f"line {line}: <{raw[1]}> is shown as text, not run as HTML; put code between "
            "backticks, or remove it"
        )
    lost = lost_text(article.body, article.url, article.content_html)
    if lost is not None:
        line, word = lost
        warnings.append(
            f"line {_file_line(article, line)}: sanitizing drops visible text "
            f"({quote(word)}); remove the HTML around it or write it as Markdown"
        )
    return warnings


def check_unique_slugs(articles: Iterable[Article]) -> list[ArticleError]:
    """Return an error for every article whose slug or id an earlier file already uses."""
    articles = list(articles)
    seen: dict[str, Path] = {}
    errors: list[ArticleError] = []
    for article in articles:
        if article.slug in seen:
            errors.append(
                ArticleError(
                    article.source,
                    f"slug {quote(article.slug)} is already used by {seen[article.slug].name}",
                    field="slug",
                    fix="rename one of the two files, or set another 'slug:' in one of them",
                )
            )
        else:
            seen[article.slug] = article.source
    ids: dict[str, Path] = {}
    for article in articles:
        if seen[article.slug] != article.source:
            continue  # already reported for its slug
        if article.id in ids:
            errors.append(
                ArticleError(
                    article.source,
                    f"{quote(article.id)} is already the id of {ids[article.id].name}",
                    field="id",
                    fix="every article needs its own id; remove id: from the newer one",
                )
            )
        else:
            ids[article.id] = article.source
    return errors


Progress = Callable[[int, int], None]


Loader = Callable[[Path, SiteSettings], Article]


def scan_articles(
    directory: Path,
    site: SiteSettings,
    progress: Progress | None = None,
    load: Loader | None = None,
    folder: FolderScan | None = None,
) -> tuple[list[Article], list[ArticleError]]:
    """Load every article, collecting all problems instead of stopping at the first.

    ``load`` reads one article (default :func:`load_article`). A cache wraps it from
    outside (``ArticleCache.load``: an unchanged file skips YAML parsing); this module
    never knows about the cache. Every article's body limits are checked here either way.
    ``folder``: ``scan_folder(directory)`` when the caller has it (for its warnings too).
    """
    load = load or load_article
    articles: list[Article] = []
    folder = folder or scan_folder(directory)
    errors: list[ArticleError] = list(folder.errors)
    paths = folder.paths
    for done, path in enumerate(paths, 1):
        try:
            article = load(path, site)
            check_article_body(article)
            articles.append(article)
        except ArticleError as exc:
            errors += [exc, *exc.also]
        if progress is not None:
            progress(done, len(paths))
    errors.extend(check_unique_slugs(articles))
    return articles, errors


def load_articles(
    directory: Path,
    site: SiteSettings,
    progress: Progress | None = None,
    load: Loader | None = None,
    folder: FolderScan | None = None,
) -> list[Article]:
    """Load every article of a folder; raise ``InvalidArticles`` listing all problems."""
    articles, errors = scan_articles(directory, site, progress, load, folder)
    if errors:
        raise InvalidArticles(errors)
    return articles
