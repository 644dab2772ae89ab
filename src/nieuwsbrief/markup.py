"""Turn untrusted Markdown into safe HTML with absolute URLs, and text into teasers.

Rendering is one pipeline of mechanisms, each closing a class of problems at its root:

1. ``body_problem`` refuses bodies whose nesting or bracket use would make the Markdown
   parser or the HTML sanitizer superlinear, before either runs (callers report the line).
2. Raw-text and RCDATA tags (``<style>``, ``<script>``, ``<textarea>``, ...) are escaped in
   the source, so such a word in prose stays text instead of swallowing the rest.
3. nh3 (html5ever) keeps harmless tags and attributes; links may be http(s), mailto, and
   tel/sms with a valid number; ``id``s survive.
4. A tree pass drops leftovers (empty elements, images without ``src``, links without
   ``href``), prefixes ids per article and points ``#anchor`` links at them.
5. Characters XML forbids are removed from the result, however they were produced.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from html.parser import HTMLParser
from itertools import islice
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
# Links in a body may also dial or text a number: for a mental-health practice the crisis
# line (``tel:113``) is the link that matters most.
LINK_SCHEMES = SAFE_SCHEMES | {"tel", "sms"}
_PHONE = re.compile(r"^\+?[0-9][0-9 ().\-]{0,30}$")

# XML 1.0 forbids these code points; lxml refuses them and feed readers choke on them.
XML_ILLEGAL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)

_URL_ATTRIBUTES = frozenset({"href", "src", "cite"})

# Deepest nesting of Markdown containers (each '>' and each list level counts one) and of
# HTML elements an article may have. html5ever's tree building is superlinear in depth.
MAX_MARKDOWN_DEPTH = 32
MAX_HTML_DEPTH = 64
# Elements nested deeper after rendering keep their text, not their formatting. Nesting of
# raw HTML and of quotes and lists is refused well before this; emphasis is not counted by
# depth ('_' * 1700 + 'a' + '_' * 1700 nests 850 deep) and overflowed the tree's recursion.
MAX_TREE_DEPTH = 160
# markdown-it scans from every unmatched '[' to the end of its paragraph: the sum over
# paragraphs of ('[' count x paragraph length) bounds that work.
MAX_BRACKET_WORK = 2_000_000
# markdown-it re-scans the lines of every open quote or list for each level: the sum over
# lines of depth squared bounds that work (flat prose costs nothing).
MAX_NESTING_WORK = 200_000
# markdown-it-py and nh3 spend ~0.1 ms per piece of inline markup (a '|' of a table, a '*',
# a '[' ...) on a quiet machine: this many keep a body near 2 s, whatever its size.
MAX_MARKUP = 8_000
_MARKUP = re.compile(r"[*_`\[\]<|&~]")

# Elements whose content html5 parses as raw text (or RCDATA, or not at all): written in
# prose ("Met de <style> tag ...") they would swallow the rest of the article.
RAW_TEXT_TAGS = (
    "script", "style", "template", "textarea", "title", "xmp", "iframe", "noembed",
    "noframes", "noscript", "plaintext", "svg", "math",
)  # fmt: skip
RAW_TEXT_TAG = re.compile(r"<(/?(?:" + "|".join(RAW_TEXT_TAGS) + r"))(?=[\s/>]|$)", re.IGNORECASE)
# A noncharacter read_source and strip_xml_illegal remove, so it never occurs in a body:
# it stands for '<' of an escaped raw-text tag while Markdown is parsed.
_LT = "\ufdd0"

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr"}
)  # fmt: skip
# Elements that say nothing when they hold no text (and no image or line break).
_DROP_IF_EMPTY = frozenset(
    {"a", "abbr", "b", "bdi", "bdo", "blockquote", "center", "cite", "code", "dd", "del",
     "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
     "h6", "i", "ins", "kbd", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span",
     "strike", "strong", "sub", "sup", "tt", "u", "ul", "var"}
)  # fmt: skip
_KEEPS_EMPTY = frozenset({"img", "br", "hr", "wbr", "td", "th", "tr", "col"})
_ID = re.compile(r"[^a-z0-9_-]+")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*?)(/?)>")
_BRACKET = re.compile(r"\\.|[\[\]]")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_QUOTES = re.compile(r"^(?: {0,3}>)+")
_LIST_ITEM = re.compile(r"^([ \t]*)(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
# html5 closes these when the same element opens again, so they do not nest by repetition.
_SELF_CLOSING_SIBLINGS = frozenset({"p", "li", "dt", "dd", "tr", "td", "th", "option"})


def strip_xml_illegal(text: str) -> str:
    """Remove characters that may not appear in an XML document."""
    return XML_ILLEGAL.sub("", text)


# What html5 reads after '<' up to the end of a tag, a comment or a bogus comment.
_TAG_REST = re.compile(r"""[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>""")
_COMMENT_REST = re.compile(r"(?:>|->|.*?-->)", re.DOTALL)
_BOGUS_REST = re.compile(r"[^>]*>")
_CONSTRUCT = re.compile(r"<(?:(!--)|([A-Za-z]|/[A-Za-z])|(!|\?|/))")
_MAX_RESTARTS = 8


def close_open_constructs(html: str) -> str:
    """Escape the '<' of a tag or comment that ``html`` never closes.

    An HTML block ends at a blank line, but a tag or comment left open in it (an attribute
    quote, ``<!--``) would swallow every paragraph after it. Escaped, it is text.
    """
    position = 0
    restarts = 0
    while True:
        match = _CONSTRUCT.search(html, position)
        if match is None:
            return html
        start = match.start()
        rest = _COMMENT_REST if match[1] else _TAG_REST if match[2] else _BOGUS_REST
        closed = rest.match(html, match.end())
        if closed is not None:
            position = closed.end()
            continue
        restarts += 1
        if restarts > _MAX_RESTARTS:  # pathological: show the rest of the block as text
            return html[:start] + html[start:].replace("<", "&lt;")
        html = html[:start] + "&lt;" + html[start + 1 :]
        position = start + 4


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # CommonMark, plus tables and strikethrough that editors know from other tools.
    # maxNesting above our own depth limit: markdown-it would silently flatten deeper text.
    md = MarkdownIt("commonmark", {"typographer": False, "maxNesting": 100}).enable(
        ["table", "strikethrough"]
    )
    # markdown-it leaves a link to a refused scheme unparsed, so readers saw the Markdown
    # ('[hulp](javascript:...)'). Parsed, the sanitizer drops the address and keeps the text.
    md.validateLink = lambda url: True  # type: ignore[method-assign]  # markdown-it documents this override

    def html_block(self: object, tokens: list[Any], index: int, *_: object) -> str:
        return close_open_constructs(str(tokens[index].content))

    md.add_render_rule("html_block", html_block)
    return md


def safe_url(url: str, base: str) -> str | None:
    """Return ``url`` made absolute against ``base``, or None if its scheme is not allowed."""
    url = url.strip()
    absolute = urljoin(base, url)
    scheme = urlsplit(absolute).scheme.lower()
    if scheme not in SAFE_SCHEMES:
        return None
    return absolute


def safe_link(url: str, base: str) -> str | None:
    """Return a body link made absolute, or None: like ``safe_url``, plus tel: and sms:."""
    url = url.strip()
    scheme, _, rest = url.partition(":")
    if scheme.lower() in ("tel", "sms") and rest:
        number = unquote(rest)
        return f"{scheme.lower()}:{rest}" if _PHONE.match(number) else None
    return safe_url(url, base)


# -- 1. limits, checked before parsing -------------------------------------------------


def body_problem(body: str) -> tuple[int, str, str] | None:
    """Return (line, problem, fix) when ``body`` is too deeply nested or costly to render.

    A linear scan of the source, run before any parser. Lines count from 1 in ``body``.
    """
    if _within_limits(body):
        return None
    return _scan_for_problem(body)


# A line that may open a quote or a list item: only these can nest (see _line_depth). Found
# after a line break (the body gets one in front): a literal start makes the search fast.
_MAYBE_NESTED = re.compile(r"\n(?=[ \t]*(?:[>*+-]|\d))([^\n]*)")


def _line_depth(line: str) -> int:
    """Return how deep ``line`` nests quotes and lists: each '>' and each list level one."""
    quotes = _QUOTES.match(line)
    depth = quotes[0].count(">") if quotes else 0
    item = _LIST_ITEM.match(line[quotes.end() :] if quotes else line)
    if item:
        depth += len(item[1].expandtabs(4)) // 2 + 1
    return depth


def _within_limits(body: str) -> bool:
    """Tell whether ``body`` is certainly within every limit of ``body_problem``.

    Whole-body bounds, each at least what the line scan counts (it skips code blocks and
    cuts its loops short, this counts everything): every build checks every article, and
    nearly all are far within. False means only "scan line by line".
    """
    markup = (  # what _MARKUP finds
        body.count("*") + body.count("_") + body.count("`") + body.count("[")
        + body.count("]") + body.count("<") + body.count("|") + body.count("&")
        + body.count("~")
    )  # fmt: skip
    if markup > MAX_MARKUP:
        return False
    # Each '[' adds at most once the length of the rest of the body to the bracket work.
    if body.count("[") * (len(body) + 1) > MAX_BRACKET_WORK:
        return False
    # Each tag opens at most one element, and every tag starts with '<'.
    if body.count("<") > MAX_HTML_DEPTH:
        return False
    nesting_work = 0
    for line in _MAYBE_NESTED.findall("\n" + body):
        depth = _line_depth(line)
        if depth > MAX_MARKDOWN_DEPTH:
            return False
        nesting_work += depth * depth
    return nesting_work <= MAX_NESTING_WORK


def _scan_for_problem(body: str) -> tuple[int, str, str] | None:
    stack: list[str] = []
    fence = ""
    bracket_work = 0
    opened: list[int] = []  # offsets of this paragraph's '[' still unmatched
    opened_sum = 0
    nesting_work = 0
    markup = 0
    offset = 0
    for number, line in enumerate(body.split("\n"), 1):
        fence_match = _FENCE.match(line)
        if fence:
            if fence_match and fence_match[1][0] == fence[0] and len(fence_match[1]) >= len(fence):
                fence = ""
            offset += len(line) + 1
            continue
        if fence_match:
            fence = fence_match[1]
        if not line.strip():
            # Paragraph end: markdown-it scanned from each unmatched '[' to here.
            bracket_work += len(opened) * offset - opened_sum
            opened.clear()
            opened_sum = 0
        # Every loop below stops after the markup still allowed: linear in MAX_MARKUP.
        room = MAX_MARKUP - markup + 1
        markup += len(_MARKUP.findall(line))
        if line.strip() and ("[" in line or "]" in line):
            for match in islice(_BRACKET.finditer(line), room):
                if match[0] == "[":
                    opened.append(offset + match.start())
                    opened_sum += opened[-1]
                elif match[0] == "]" and opened:
                    opened_sum -= opened.pop()
        offset += len(line) + 1
        depth = _line_depth(line)
        if depth > MAX_MARKDOWN_DEPTH:
            return (
                number,
                f"nests quotes and lists {depth} levels deep, more than the "
                f"{MAX_MARKDOWN_DEPTH} allowed",
                "flatten the quotes or lists",
            )
        nesting_work += depth * depth
        if nesting_work > MAX_NESTING_WORK:
            return (
                number,
                f"nests quotes and lists deeply on too many lines ({depth} levels here), "
                "too costly to render",
                "flatten the quotes or lists",
            )
        if "<" in line:
            for tag in islice(_TAG.finditer(line), room):
                closing, name, _attributes, self_closing = tag.groups()
                name = name.lower()
                if closing:
                    if name in stack:
                        del stack[len(stack) - 1 - stack[::-1].index(name) :]
                elif name not in _VOID and not self_closing and name not in RAW_TEXT_TAGS:
                    if name in _SELF_CLOSING_SIBLINGS and stack and stack[-1] == name:
                        continue
                    stack.append(name)
                    if len(stack) > MAX_HTML_DEPTH:
                        return (
                            number,
                            f"nests HTML elements more than {MAX_HTML_DEPTH} deep "
                            f"(<{name}> inside {len(stack) - 1} open elements)",
                            "close the elements you open, or remove the HTML",
                        )
        if opened and bracket_work + len(opened) * offset - opened_sum > MAX_BRACKET_WORK:
            return (
                number,
                # The scan stops counting once the markup budget is spent: "at least".
                f"has at least {len(opened):,} '[' that no ']' closes in one paragraph, too "
                "costly to render",
                "split the paragraph, or write '\\[' for a bracket that is no link",
            )
        if markup > MAX_MARKUP:
            return (
                number,
                # Counted over the whole body: this line is where the count passes the limit.
                f"takes the body past {MAX_MARKUP:,} pieces of markup (*, _, `, [, ], <, |, &, ~) "
                "outside code blocks, too costly to render",
                "split the article, or move data to a linked file",
            )
    return None


def check_body(body: str) -> None:
    """Raise ValueError naming the line when ``body`` is beyond the rendering limits."""
    problem = body_problem(body)
    if problem is not None:
        line, text, fix = problem
        raise ValueError(f"line {line} of the body {text} ({fix})")


# -- 2..5. rendering ------------------------------------------------------------------


# HTML blocks that CommonMark ends only at their closing sequence: left open, they would
# swallow the rest of the article.
_OPEN_UNTIL = (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>"))


def _escape_raw_text_tags(source: str) -> str:
    source = RAW_TEXT_TAG.sub(_LT + r"\1", strip_xml_illegal(source))
    for opening, closing in _OPEN_UNTIL:
        last_close = source.rfind(closing)
        tail_start = last_close + len(closing) if last_close >= 0 else 0
        if opening in source[tail_start:]:
            tail = source[tail_start:].replace(opening, _LT + opening[1:])
            source = source[:tail_start] + tail
    return source


# The marker as markdown-it writes it into a link: percent-encoded UTF-8 in a path or query,
# or inside a punycode label of a host name ('https://<style>.nl').
_LT_IN_URL = re.compile("%EF%B7%90", re.IGNORECASE)
_PUNYCODE_LABEL = re.compile(r"xn--[A-Za-z0-9-]+")


def _no_marker_in_label(match: re.Match[str]) -> str:
    from urllib.parse import quote

    try:
        label = match[0][4:].encode("ascii").decode("punycode")
    except UnicodeError:
        return match[0]
    return quote(label.replace(_LT, "<"), safe="") if _LT in label else match[0]


def _restore_escaped(html: str) -> str:
    """Put back the '<' the marker stands for: text gets '&lt;', a URL '%3C' (no marker left)."""
    html = _LT_IN_URL.sub("%3C", html.replace(_LT, "&lt;"))
    return _PUNYCODE_LABEL.sub(_no_marker_in_label, html) if "xn--" in html else html


def _clean(html: str, base_url: str) -> str:
    import nh3

    def filter_attribute(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "href" and value.strip().startswith("#"):
            return value.strip()  # an anchor in this article: rewritten by the tree pass
        if attribute == "href":
            return safe_link(value, base_url)
        if attribute in _URL_ATTRIBUTES:
            absolute = safe_url(value, base_url)
            if attribute == "src" and absolute is not None and absolute.startswith("mailto:"):
                return None
            return absolute
        return value

    attributes = {key: set(values) for key, values in nh3.ALLOWED_ATTRIBUTES.items()}
    attributes.setdefault("*", set()).add("id")
    return str(
        nh3.clean(
            html,
            attributes=attributes,
            url_schemes=set(LINK_SCHEMES),
            attribute_filter=filter_attribute,
            link_rel="noopener noreferrer",
            strip_comments=True,
        )
    )


@dataclass
class _Node:
    tag: str
    attributes: dict[str, str] = field(default_factory=dict)
    children: list[_Node | str] = field(default_factory=list)


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
# ... and first the text up to the first blank line after this many characters.
FIRST_TRY_CHARS = 200
_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:", re.M)


def _opening(source: str) -> str:
    """Return the start of ``source``, cut at a blank line, enough for its first text block."""
    if len(source) <= OPENING_CHARS:
        return source
    cut = source.rfind("\n\n", 0, OPENING_CHARS)
    return source[:cut] if cut > 0 else source[:OPENING_CHARS]


class _TreeBuilder(HTMLParser):
    """Read nh3's well-formed output back into a small tree."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("")
        self.stack = [self.root]
        self.dropped = 0  # elements open below MAX_TREE_DEPTH, kept as their text only

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID and len(self.stack) > MAX_TREE_DEPTH:
            self.dropped += 1
            return
        node = _Node(tag, {key: value or "" for key, value in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(_Node(tag, {key: value or "" for key, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if self.dropped:
            # nh3's output is well-formed: the innermost open element is a dropped one.
            self.dropped -= 1
            return
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


# nh3's (html5ever's) serialization: lowercase names, every attribute ' name="value"', no
# comments, '<' in text always '&lt;'. Read by these patterns, it needs no HTML parser.
_CLEAN_TAG = re.compile(r'<(/?)([a-z][a-z0-9]*)((?: [a-z][a-z0-9_:.-]*="[^"]*")*)>')
_CLEAN_ATTRIBUTE = re.compile(r' ([a-z][a-z0-9_:.-]*)="([^"]*)"')
# html.parser reads these elements' content as raw text: left to it.
_RAW_CONTENT = frozenset({"script", "style"})


def _read_clean(html: str) -> _Node | None:
    """Return the tree ``_TreeBuilder`` builds of nh3's output, or None for another form.

    The same calls in the same order as html.parser makes for such input (text and
    attribute values unescaped by the same ``html.unescape``), without its general
    tokenizer, the slowest step of the sanitizer. Anything else goes to the parser.
    """
    from html import unescape

    builder = _TreeBuilder()
    position = 0
    while True:
        start = html.find("<", position)
        if start < 0:
            if position < len(html):
                builder.handle_data(unescape(html[position:]))
            return builder.root
        if start > position:
            builder.handle_data(unescape(html[position:start]))
        tag = _CLEAN_TAG.match(html, start)
        if tag is None or tag[2] in _RAW_CONTENT:
            return None
        closing, name, attributes = tag.groups()
        if closing:
            if attributes:
                return None
            builder.handle_endtag(name)
        else:
            pairs = _CLEAN_ATTRIBUTE.findall(attributes)
            builder.handle_starttag(name, [(key, unescape(value)) for key, value in pairs])
        position = tag.end()


def _walk(node: _Node) -> list[_Node]:
    found: list[_Node] = []
    pending = [node]
    while pending:
        current = pending.pop()
        found.append(current)
        # Reversed onto the stack, so nodes come out in document order (first id wins).
        pending.extend(child for child in reversed(current.children) if isinstance(child, _Node))
    return found


def _text_of(node: _Node) -> str:
    return "".join(child if isinstance(child, str) else _text_of(child) for child in node.children)


def _anchor(text: str) -> str:
    from nieuwsbrief.urls import slugify

    return slugify(text) or _ID.sub("-", text.lower()).strip("-")


def _tidy(root: _Node, prefix: str) -> None:
    """Prefix ids, point #anchor links at them, drop what says nothing."""
    nodes = _walk(root)
    ids: dict[str, str] = {}
    used: set[str] = set()
    for node in nodes:
        wanted = node.attributes.pop("id", "")
        if not wanted and node.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            wanted = _text_of(node)
        if not wanted:
            continue  # most nodes: no id, no heading (an empty text gives no name below)
        name = _ID.sub("-", _anchor(wanted)).strip("-")
        if not name:
            continue
        unique, count = name, 1
        while unique in used:
            count += 1
            unique = f"{name}-{count}"
        used.add(unique)
        ids.setdefault(name, unique)
        ids.setdefault(wanted, unique)
        node.attributes["id"] = f"{prefix}-{unique}"
    for node in nodes:
        href = node.attributes.get("href")
        if href is not None and href.startswith("#"):
            target = unquote(href[1:])
            known = ids.get(target) or ids.get(_anchor(target))
            if known:
                node.attributes["href"] = f"#{prefix}-{known}"
            else:
                del node.attributes["href"]
                node.attributes.pop("rel", None)
    _prune(root)


def _prune(node: _Node) -> bool:
    """Drop leftovers below ``node``; return whether ``node`` still says something."""
    kept: list[_Node | str] = []
    for child in node.children:
        if isinstance(child, str):
            kept.append(child)
            continue
        if child.tag == "img" and not child.attributes.get("src"):
            if alt := child.attributes.get("alt", "").strip():
                kept.append(alt)  # an image that cannot be shown is what it shows, in words
            continue
        if not _prune(child):
            continue
        if child.tag == "a" and not child.attributes.get("href"):
            kept.extend(child.children)  # a link to nowhere is just its text
            continue
        kept.append(child)
    node.children = kept
    if node.tag not in _DROP_IF_EMPTY:
        return True
    return any((child.strip() if isinstance(child, str) else True) for child in kept)


def _serialize(node: _Node, out: list[str]) -> None:
    for child in node.children:
        if isinstance(child, str):
            out.append(escape(child, quote=False).replace(">", "&gt;"))
            continue
        attributes = "".join(
            f' {key}="{escape(value, quote=True)}"' for key, value in child.attributes.items()
        )
        out.append(f"<{child.tag}{attributes}>")
        if child.tag not in _VOID:
            _serialize(child, out)
            out.append(f"</{child.tag}>")


def _prefix_for(base_url: str) -> str:
    segments = [part for part in urlsplit(base_url).path.split("/") if part]
    return _ID.sub("-", (segments[-1] if segments else "artikel").lower()).strip("-") or "a"


_ANY_TAG = re.compile(r"""<(/?)([A-Za-z][A-Za-z0-9-]*)(?:[^>"']|"[^"]*"|'[^']*')*>""")


def _drop_unknown_tags(html: str) -> str:
    """Remove tags nh3 would not keep, but keep their content.

    html5ever drops the content of SVG and MathML element names (``<text>``, ``<g>``,
    ``<mi>`` ...) even outside ``<svg>``: removed here first, their text survives.
    """
    import nh3

    allowed = nh3.ALLOWED_TAGS

    def replace(match: re.Match[str]) -> str:
        return match[0] if match[2].lower() in allowed else ""

    return _ANY_TAG.sub(replace, html)


@lru_cache(maxsize=8)  # check renders a body for its warnings right after the feeds did
def _markdown_html(source: str) -> str:
    rendered = _markdown().render(_escape_raw_text_tags(source))
    return _restore_escaped(_drop_unknown_tags(rendered))


def sanitize_html(html: str, base_url: str, id_prefix: str | None = None) -> str:
    """Keep only harmless tags and attributes, make every link absolute, tidy leftovers."""
    cleaned = _clean(strip_xml_illegal(html), base_url)
    root = _read_clean(cleaned)
    if root is None:
        builder = _TreeBuilder()
        builder.feed(cleaned)
        builder.close()
        root = builder.root
    _tidy(root, id_prefix or _prefix_for(base_url))
    out: list[str] = []
    _serialize(root, out)
    # Enforced last: nothing the steps above produce may break an XML feed.
    return strip_xml_illegal("".join(out))


def render_markdown(source: str, base_url: str, id_prefix: str | None = None) -> str:
    """Render CommonMark to sanitized HTML whose links and images are absolute.

    Raises ValueError when the body is beyond the limits of ``body_problem``.
    """
    check_body(source)
    return sanitize_html(_markdown_html(source), base_url, id_prefix)


def visible_words(html: str) -> Counter[str]:
    """Return the words a reader sees in ``html``: its text, without tags or comments.

    Read by libxml2 (lxml), independent of the sanitizer whose losses it should find.
    """
    from lxml import html as lxml_html

    if not html.strip():
        return Counter()
    tree = lxml_html.fragment_fromstring(html, create_parent="div")
    return Counter(strip_xml_illegal(" ".join(tree.itertext())).split())


def lost_text(source: str, base_url: str, rendered: str | None = None) -> tuple[int, str] | None:
    """Return (line in ``source``, a lost word) when sanitizing drops visible prose.

    ``rendered``: ``render_markdown(source, base_url)``, when the caller has it already.
    """
    if body_problem(source) is not None:
        return None
    before = _markdown_html(source)
    after = rendered if rendered is not None else sanitize_html(before, base_url)
    missing = visible_words(before) - visible_words(after)
    if not missing:
        return None
    word = min(missing, key=lambda candidate: source.find(candidate) % (len(source) + 1))
    index = max(source.find(word), 0)
    return source.count("\n", 0, index) + 1, word


@lru_cache(maxsize=64)  # the teaser and check's summary warning both ask; a parse is costly
def first_paragraph_text(source: str) -> str:
    """Return the plain text of the first block of text of a Markdown document.

    The block is whatever comes first: a paragraph, a list (its items joined with "; "),
    a block quote or a table; headings and code are skipped, as a teaser is prose.
    """
    # A reference link ([text][ref]) needs its definition, which may come at the very end.
    opening = source if _LINK_DEFINITION.search(source) else _opening(source)
    start = _first_try(opening)
    if start is not None:
        text, complete = _first_block_text(start)
        if complete:
            return text
    text, complete = _first_block_text(opening)
    if opening != source and not complete:
        # The cut fell inside the first block (or before any): read the whole source.
        text, _ = _first_block_text(source)
    return text


def _first_try(opening: str) -> str | None:
    """Return a shorter start of ``opening`` that decides its first block, if there is one.

    Most first blocks are a paragraph of a few hundred characters. Cut as ``_opening`` cuts:
    after a blank line and the line of text that follows it, so a block that ends before
    that line ends there in the whole opening too (the blank line and a line that continues
    no block decide it; ``_first_block_text`` says "complete" only then). None when a
    reference definition ('[label]:', which may be anywhere) could follow the cut.
    """
    blank = opening.find("\n\n", FIRST_TRY_CHARS)
    if blank < 0:
        return None
    line = blank + 2
    while line < len(opening) and opening[line] == "\n":
        line += 1
    end = opening.find("\n", line)
    if end < 0 or not opening[line:end].strip() or "]:" in opening[end:]:
        return None
    return opening[:end]


def _block_tokens(source: str) -> tuple[list[Token], Callable[[Token], None]]:
    """Return ``source``'s block tokens, and what parses one inline token's children.

    ``_markdown().parse`` is these two steps for every inline token at once; a teaser reads
    one block, so its inline markup, the larger share of the work, is parsed alone. The
    inline rules read the reference definitions the block rules found, and change nothing
    else: a token parsed here has the children ``parse`` gives it (tests/test_cold_paths.py).
    """
    from markdown_it.rules_core import block, normalize, text_join
    from markdown_it.rules_core.state_core import StateCore

    md = _markdown()
    state = StateCore(source, md, {})
    normalize(state)
    block(state)

    parsed: set[int] = set()

    def parse_inline(token: Token) -> None:  # as markdown-it's core rules inline, text_join
        if id(token) in parsed:
            return
        parsed.add(id(token))
        if token.children is None:
            token.children = []
        md.inline.parse(token.content, md, state.env, token.children)
        text_join(StateCore("", md, state.env, [token]))

    return state.tokens, parse_inline


def _first_block_text(source: str) -> tuple[str, bool]:
    """Return the first block's text, and whether more of ``source`` follows that block."""
    tokens, parse_inline = _block_tokens(source)
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
                parse_inline(tokens[end])
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
