"""Turn untrusted Markdown into safe HTML with absolute URLs, and text into teasers."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})

# XML 1.0 forbids these code points; lxml refuses them and feed readers choke on them.
XML_ILLEGAL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)

_URL_ATTRIBUTES = frozenset({"href", "src", "cite"})


def strip_xml_illegal(text: str) -> str:
    """Remove characters that may not appear in an XML document."""
    return XML_ILLEGAL.sub("", text)


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # CommonMark, plus tables and strikethrough that editors know from other tools.
    return MarkdownIt("commonmark", {"typographer": False}).enable(["table", "strikethrough"])


def safe_url(url: str, base: str) -> str | None:
    """Return ``url`` made absolute against ``base``, or None if its scheme is not allowed."""
    url = url.strip()
    absolute = urljoin(base, url)
    scheme = urlsplit(absolute).scheme.lower()
    if scheme not in SAFE_SCHEMES:
        return None
    return absolute


def sanitize_html(html: str, base_url: str) -> str:
    """Keep only harmless tags and attributes, and make every link absolute."""
    import nh3

    def absolutize(tag: str, attribute: str, value: str) -> str | None:
        if attribute in _URL_ATTRIBUTES:
            return safe_url(value, base_url)
        return value

    return nh3.clean(
        html,
        url_schemes=set(SAFE_SCHEMES),
        attribute_filter=absolutize,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render_markdown(source: str, base_url: str) -> str:
    """Render CommonMark to sanitized HTML whose links and images are absolute."""
    return sanitize_html(_markdown().render(source), base_url)


def _inline_text(inline: Token) -> str:
    parts: list[str] = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            # An image's alt text is what a reader would read in its place.
            parts.append(child.content)
    return collapse_space("".join(parts))


# A teaser needs the first block only: parse this much of the source, not a whole long article
# (markdown-it takes milliseconds per article, and archives need a teaser for every article).
OPENING_CHARS = 1200
_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:", re.M)


def _opening(source: str) -> str:
    """Return the start of ``source``, cut at a blank line, enough for its first text block."""
    if len(source) <= OPENING_CHARS:
        return source
    cut = source.rfind("\n\n", 0, OPENING_CHARS)
    return source[:cut] if cut > 0 else source[:OPENING_CHARS]


def first_paragraph_text(source: str) -> str:
    """Return the plain text of the first block of text of a Markdown document.

    The block is whatever comes first: a paragraph, a list (its items joined with "; "),
    a block quote or a table; headings and code are skipped, as a teaser is prose.
    """
    # A reference link ([text][ref]) needs its definition, which may come at the very end.
    opening = source if _LINK_DEFINITION.search(source) else _opening(source)
    text, complete = _first_block_text(opening)
    if opening != source and not complete:
        # The cut fell inside the first block (or before any): read the whole source.
        text, _ = _first_block_text(source)
    return text


def _first_block_text(source: str) -> tuple[str, bool]:
    """Return the first block's text, and whether more of ``source`` follows that block."""
    tokens = _markdown().parse(source)
    lines = source.count("\n") + 1
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type in ("heading_open", "fence", "code_block", "html_block", "hr"):
            index += 1 if token.nesting == 0 else 3
            continue
        if token.nesting != 1:
            index += 1
            continue
        # Gather the text of this top-level block, up to its closing token.
        depth, pieces, end = 0, [], index
        for end in range(index, len(tokens)):
            depth += tokens[end].nesting
            if tokens[end].type == "inline" and not tokens[end - 1].type.startswith("heading"):
                text = _inline_text(tokens[end])
                if text:
                    pieces.append(text)
            if depth == 0:
                break
        is_list = token.type in ("bullet_list_open", "ordered_list_open")
        text = ("; " if is_list else " ").join(pieces)
        if text:
            block_end = token.map[1] if token.map else lines
            return text, block_end < lines
        index = end + 1
    return "", False


def collapse_space(text: str) -> str:
    """Fold runs of white space into single spaces."""
    return " ".join(text.split())


def teaser(text: str, limit: int = 200) -> str:
    """Shorten ``text`` to at most ``limit`` characters, cutting only between words."""
    text = collapse_space(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > 0:
        cut = cut[:space]
    else:
        # One giant word: no boundary to cut at, so keep it whole rather than halve it.
        word_end = text.find(" ")
        cut = text if word_end < 0 else text[:word_end]
        if cut == text:
            return text
    return cut.rstrip(" ,;:-–—") + "…"
