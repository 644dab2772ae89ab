"""A digest's manifest: made from the rendered digest, and checked when read back from disk.

Reading the files is the build's job (build.read_manifests); this module only turns bytes into
a manifest that meets the rules of fresh output, or says which field does not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nieuwsbrief.articles import SLUG
from nieuwsbrief.errors import quote
from nieuwsbrief.mail import unsubscribe_link
from nieuwsbrief.schedule import parse_iso_week
from nieuwsbrief.urls import with_utm

if TYPE_CHECKING:
    from nieuwsbrief.articles import Article
    from nieuwsbrief.config import Settings
    from nieuwsbrief.mail import Envelope
    from nieuwsbrief.schedule import Window

MANIFEST_FILE = "manifest.json"
MAX_MANIFEST_BYTES = 1_000_000
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def digest_manifest(
    settings: Settings,
    window: Window,
    subject: str,
    preheader: str,
    items: Sequence[Article],
    overflow: Sequence[Article],
    envelope: Envelope,
    files: Mapping[str, bytes],
    web_url: str,
) -> dict[str, Any]:
    """Return a digest's manifest: what it holds, how it is sent, and each file's hash.

    ``files`` are the digest's files by name, in the order the manifest lists them.
    """

    def describe(article: Article) -> dict[str, str]:
        return {
            "slug": article.slug,
            "title": article.title,
            "url": article.url,
            "link": with_utm(article.url, window.week),
            "date": article.date.isoformat(),
        }

    return {
        "week": window.week,
        "subject": subject,
        "preheader": preheader,
        "message_id": envelope.message_id,
        "send_at": window.send_moment.isoformat(),
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
        "from": {"name": envelope.sender.name, "email": envelope.sender.email},
        "reply_to": envelope.reply_to,
        "mail_service": settings.digest.mail_service,
        "unsubscribe": unsubscribe_link(settings.digest),
        "headers": envelope.extra,
        "web_url": web_url,
        "articles": [describe(article) for article in items],
        "overflow": [describe(article) for article in overflow],
        "files": [
            {
                "name": name,
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            for name, data in files.items()
        ],
    }


def _no_constant(name: str) -> Any:
    raise ValueError(f"holds {name}, which is not JSON")


def _text(value: Any, where: str, limit: int, *, lines: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f"field '{where}' is not text")
    if len(value) > limit:
        raise ValueError(f"field '{where}' is longer than {limit} characters")
    if CONTROL.search(value.replace("\n", "").replace("\t", "") if lines else value):
        raise ValueError(f"field '{where}' holds control characters")
    return value


def _walk(value: Any, where: str, depth: int = 0) -> None:
    """Check every value: bounded text without control characters, ints in range."""
    if depth > 8:
        raise ValueError(f"field '{where}' is nested too deeply")
    if isinstance(value, dict):
        if len(value) > 200:
            raise ValueError(f"field '{where}' has too many keys")
        for key, item in value.items():
            _text(key, where, 100)
            _walk(item, f"{where}.{key}" if where else key, depth + 1)
    elif isinstance(value, list):
        if len(value) > 10_000:
            raise ValueError(f"field '{where}' has more than 10,000 entries")
        for index, item in enumerate(value):
            _walk(item, f"{where}[{index}]", depth + 1)
    elif isinstance(value, str):
        # Fields a later version adds may hold lines; the fields the archive shows may not.
        _text(value, where, 20_000, lines=True)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not 0 <= value <= 1_000_000_000:
            raise ValueError(f"field '{where}' is not a count between 0 and 1,000,000,000")
    else:
        raise ValueError(f"field '{where}' is not text, a count, a list or a mapping")


def check_manifest(data: Any, week: str) -> dict[str, Any]:
    """Return a manifest read back from disk if it meets the rules of fresh output.

    Raise ValueError naming the field otherwise. ``week`` is the folder it was found in.
    """
    if not isinstance(data, dict):
        raise ValueError("is not a JSON object")
    _walk(data, "")
    for key in ("week", "subject", "send_at", "articles"):
        if key not in data:
            raise ValueError(f"field '{key}' is missing")
    parse_iso_week(_text(data["week"], "week", 8))
    if data["week"] != week:
        raise ValueError(f"field 'week' says {quote(data['week'])} in the folder of {week}")
    _text(data["subject"], "subject", 500)
    try:
        send_at = dt.datetime.fromisoformat(_text(data["send_at"], "send_at", 40))
    except ValueError:
        raise ValueError("field 'send_at' is not an ISO 8601 date-time") from None
    if send_at.tzinfo is None:
        raise ValueError("field 'send_at' has no UTC offset")
    for key in ("articles", "overflow"):
        items = data.get(key, [])
        if not isinstance(items, list):
            raise ValueError(f"field '{key}' is not a list")
        for item in items:
            if not isinstance(item, dict):
                raise ValueError(f"field '{key}' holds an entry that is not a mapping")
            if not SLUG.match(_text(item.get("slug"), f"{key}.slug", 200)):
                raise ValueError(f"field '{key}.slug' is not a slug")
            _text(item.get("title"), f"{key}.title", 500)
    for entry in data.get("files", []):
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("bytes"), int)
            and isinstance(entry.get("sha256"), str)
            and _SHA256_HEX.match(entry["sha256"])
        ):
            raise ValueError("field 'files' holds an entry without name, bytes and sha256")
    return data


def load_manifest(data: bytes, week: str) -> dict[str, Any]:
    """Parse and check a manifest read back from the folder of ``week``; ValueError if bad."""
    return check_manifest(json.loads(data.decode("utf-8"), parse_constant=_no_constant), week)
