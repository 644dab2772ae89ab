"""Turn URLs that people type (front matter, settings) into valid, absolute URIs.

Body links go through markdown-it's ``normalizeLink``; every other URL goes through the
same steps (``normalize_link``), so an image in front matter and the same image in the body
come out the same: spaces and non-ASCII characters percent-encoded as UTF-8, a non-ASCII
host in IDNA (punycode), and an escape that is already there (``%20``) kept as it is, never
doubled.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from nieuwsbrief.errors import quote

# A host after encoding: letters, digits, dots and hyphens (or an IPv6 literal).
_ASCII_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.?)+$|^\[[0-9a-f:.]+\]$")
# What may be left in a URI after encoding (RFC 3986 unreserved, reserved and '%').
_URI_CHARACTERS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")
MAX_URL_LENGTH = 2000
# A URL that names a host: "https://host/..." or "//host/...".
_NETWORK_PATH = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:)?//")


def encode_url(url: str) -> str:
    """Percent-encode a URL the way body links are encoded; keep existing escapes.

    Raises ValueError when the URL cannot be made valid (a host IDNA refuses, too long).
    """
    text = url.strip()
    if len(text) > MAX_URL_LENGTH:
        raise ValueError(f"is longer than {MAX_URL_LENGTH} characters")
    encoded = normalize_link(text)
    parts = urlsplit(encoded)
    host = parts.hostname
    if host is not None and not _ASCII_HOST.match(host):
        raise ValueError(f"host {quote(host)} is not a valid domain name")
    if not _URI_CHARACTERS.match(encoded):
        raise ValueError("holds characters a URL may not hold")
    return encoded


# markdown-it's host recoding (markdown_it.common.normalize_url and markdown_it._punycode).
_RECODE_HOSTNAME_FOR = ("http:", "https:", "mailto:")
_LABEL_SEPARATORS = re.compile(r"[\x2E\u3002\uFF0E\uFF61]")
_NON_ASCII = re.compile(r"[^\0-\x7E]")


def _host_to_ascii(host: str) -> str:
    parts = host.split("@")
    local = ""
    if len(parts) > 1:  # in a mail address only the domain is punycoded
        local = parts[0] + "@"
        host = parts[1]
    return local + ".".join(
        "xn--" + codecs.encode(label, encoding="punycode").decode()
        if _NON_ASCII.search(label)
        else label
        for label in _LABEL_SEPARATORS.split(host)
    )


def normalize_link(url: str) -> str:
    """Return markdown-it's ``normalizeLink(url)``: what a body link's destination becomes.

    The same steps on the same mdurl, without importing markdown-it: loading articles (an
    image in front matter) and a rebuild that stops early need no Markdown parser, and
    importing it costs more than the rest of such a rebuild's imports. tests/test_cold_paths.py
    compares it with markdown-it's own on generated URLs.
    """
    import mdurl

    parsed = mdurl.parse(url, slashes_denote_host=True)
    if parsed.hostname and (not parsed.protocol or parsed.protocol in _RECODE_HOSTNAME_FOR):
        with contextlib.suppress(Exception):
            parsed = parsed._replace(hostname=_host_to_ascii(parsed.hostname))
    if not parsed.hostname or ":" not in parsed.hostname:
        return str(mdurl.encode(mdurl.format(parsed)))
    # An IPv6 host: each part encoded before format() adds the brackets.
    return str(
        mdurl.format(
            parsed._replace(
                protocol=parsed.protocol and mdurl.encode(parsed.protocol),
                auth=parsed.auth and mdurl.encode(parsed.auth),
                hostname=mdurl.encode(parsed.hostname),
                pathname=parsed.pathname and mdurl.encode(parsed.pathname),
                search=parsed.search and mdurl.encode(parsed.search),
                hash=parsed.hash and mdurl.encode(parsed.hash),
            )
        )
    )


def absolute_url(url: str, base: str, schemes: frozenset[str]) -> str:
    """Return ``url`` encoded and made absolute against ``base``.

    Raises ValueError naming the problem when the result's scheme is not in ``schemes``
    or it has no host.
    """
    encoded = encode_url(url)
    if _NETWORK_PATH.match(encoded) and not urlsplit(encoded).hostname:
        raise ValueError("has no host name")
    absolute = urljoin(base, encoded)
    parts = urlsplit(absolute)
    if parts.scheme.lower() not in schemes:
        names = "http(s)" if schemes == {"http", "https"} else " or ".join(sorted(schemes))
        raise ValueError(f"is not an {names} or site-relative URL")
    if parts.scheme.lower() in ("http", "https") and not parts.hostname:
        raise ValueError("has no host name")
    return absolute


def with_utm(url: str, week: str) -> str:
    """Add the digest's campaign parameters to an article link."""
    parts = urlsplit(url)
    utm = urlencode({"utm_source": "nieuwsbrief", "utm_medium": "email", "utm_campaign": week})
    query = f"{parts.query}&{utm}" if parts.query else utm
    return urlunsplit(parts._replace(query=query))


def slugify(text: str) -> str:
    """Turn a (Dutch) title into a lowercase ASCII slug: 'Één café?' -> 'een-cafe'."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


SLUG_LIMIT = 80


def fold(text: str) -> str:
    """Return ``text`` lowercased without accents: 'Fobieën' -> 'fobieen'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=4096)
def topic_slug(tag: str) -> str:
    """Return the URL slug of a tag: ASCII letters, digits and hyphens, accents folded.

    A tag with nothing left after folding (only symbols, or a script without ASCII letters)
    gets a slug from its hash, so it still has a stable address of its own.
    """
    ascii_text = fold(tag).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:SLUG_LIMIT].strip("-")
    if slug:
        return slug
    return "onderwerp-" + hashlib.sha256(tag.encode("utf-8")).hexdigest()[:10]


def tag_slugs(tags: Iterable[str]) -> tuple[str, ...]:
    """Return the topic slugs of some tags, in their order, without repeats."""
    return tuple(dict.fromkeys(topic_slug(tag) for tag in tags))
