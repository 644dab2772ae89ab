"""The crisis-line notice: its text, links and template, and which articles carry it.

Articles with a tag about suicide (``topics.crisis_topics`` and the built-in crisis words,
also inside compounds and however they are spelled), or with ``crisis_notice: true``, carry
a notice that points to 113 Zelfmoordpreventie, following its media guideline. Feeds, lists
and digests all read it from here; check warns from here about texts that speak of suicide
without it (docs/topics.md).
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from typing import Any

from nieuwsbrief import templating
from nieuwsbrief.articles import Article
from nieuwsbrief.config import Settings
from nieuwsbrief.confusables import LOOK_ALIKES
from nieuwsbrief.dutch import phone_href
from nieuwsbrief.templating import TEMPLATES_DIR, skeleton_dir
from nieuwsbrief.urls import topic_slug

NOTICE_TEMPLATE = "crisis_notice.html.j2"
# The numbers and site of 113 Zelfmoordpreventie, linked wherever the notice names them.
CRISIS_LINKS: tuple[tuple[str, str], ...] = (
    (r"(?<![\w.-])0800[- ]?0113(?![\w-])", "tel:08000113"),
    (r"(?<![\w./-])(?:www\.)?113\.nl(?![\w/-])", "https://www.113.nl/"),
    (r"(?<![\w.-])113(?![\w.-])", "tel:113"),
)
# In the notice setting every 113 is linked as tel:113 (CRISIS_LINKS), so any 113 there is
# a number to call.
HELP_LINE = re.compile(r"(?<![\w.-])(?:113|0800[- ]?0113)(?![\w-])")

# In an article's text a bare 113 is often something else: a house number ("Lindengracht
# 113"), a page, the link text "[113 Zelfmoordpreventie](https://www.113.nl)". There the help
# line counts only as a number to call (docs/topics.md, "When the text gives the help line"):
# 0800-0113 written as a phone number (its digits are nothing else), a tel: link, or 113 next
# to a call word: "bel 113", "bel gratis 113", "bel je huisarts of 113", "113 bellen" (only the
# verb's infinitive or participle after it: "pagina 113 of bel …" is not a call to 113),
# "telefoon 113". Between the call word and 113 only a few short filler words may stand, so
# the gap is bounded and the search stays linear.
_CALL = r"(?:bel|belt|bellen|call)"
_FILLER = (
    r"(?:dan|direct|meteen|gratis|gerust|anoniem|altijd|nu|ook|even|naar|met|de|het|je|jij|"
    r"u|op|te|of|kun|kunt|kan|chat|chatten|hulplijn|lijn|nummer|telefoonnummer|"
    r"zelfmoordpreventie|\w{1,20}\s+(?:of|en))"
)
_GAP = r"[\s:*_]+"  # white space, a colon, Markdown emphasis (**113**)
_THE_113 = r"(?<![\w.-])113(?![\w-]|\.\w)"  # not 1130, not 113.nl
_NUMBER_0800 = r"(?<![\w.-])0800[-\u2010\u2011\u2013 \u00a0]?0113(?![\w-])"
CALLS_HELP_LINE = re.compile(
    "|".join(
        (
            _NUMBER_0800,
            r"(?<![\w.-])tel:113(?!\w)",
            rf"(?<!\w){_CALL}(?:{_GAP}{_FILLER}){{0,4}}{_GAP}{_THE_113}",
            rf"{_THE_113}(?:{_GAP}{_FILLER}){{0,4}}{_GAP}(?:bellen|belt|gebeld)(?!\w)",
            rf"(?<!\w)(?:telefoon(?:nummer)?|tel\.?){_GAP}{_THE_113}",
        )
    ),
    re.IGNORECASE,
)


def gives_help_line(text: str) -> bool:
    """Tell whether an article's text gives 113's help line as a number to call
    (``CALLS_HELP_LINE``), not merely a 113 that is an address, a page or a link text."""
    if "113" not in text and "0800" not in text:  # most texts: no search at all
        return False
    return CALLS_HELP_LINE.search(text) is not None


def default_notice(settings: Settings) -> str:
    """Return the notice of 113 Zelfmoordpreventie's media guideline, in the site's address."""
    question = (
        "Denk je aan zelfdoding?"
        if settings.site.address_form == "je"
        else ("Denkt u aan zelfdoding?")
    )
    return f"{question} Praat erover. Bel 113 of gratis 0800-0113, of chat via 113.nl."


def notice_text(settings: Settings) -> str:
    """Return the notice as text: the setting, or the default, plus the practice's phone."""
    text = settings.topics.crisis_notice or default_notice(settings)
    phone = settings.site.contact.phone
    if phone and phone not in text:
        text += f" Liever met ons praten? Bel ons op {phone}."
    return text


def notice_segments(settings: Settings) -> list[dict[str, str | None]]:
    """Split the notice into text and links: 113 and 0800-0113 as ``tel:``, 113.nl as https.

    The practice's own phone number (``site.contact.phone``) is linked too.
    """
    # A new list of new dicts each time (callers may change them), split once per notice.
    split = _split_notice(notice_text(settings), settings.site.contact.phone)
    return [dict(segment) for segment in split]


@lru_cache(maxsize=8)
def _split_notice(text: str, phone: str | None) -> tuple[dict[str, str | None], ...]:
    patterns = list(CRISIS_LINKS)
    if phone:
        patterns.insert(0, (re.escape(phone), phone_href(phone)))
    combined = re.compile("|".join(f"({pattern})" for pattern, _ in patterns))
    segments: list[dict[str, str | None]] = []
    position = 0
    for match in combined.finditer(text):
        if match.start() > position:
            segments.append({"text": text[position : match.start()], "href": None})
        index = next(i for i, group in enumerate(match.groups()) if group is not None)
        segments.append({"text": match[0], "href": patterns[index][1]})
        position = match.end()
    if position < len(text):
        segments.append({"text": text[position:], "href": None})
    return tuple(segments)


def has_notice(settings: Settings, article: Article) -> bool:
    """Tell whether an article carries the crisis-line notice.

    Front matter ``crisis_notice: true`` or ``false`` decides; without it, any tag about
    suicide does (:func:`is_crisis_tag`).
    """
    if article.crisis_notice is not None:
        return article.crisis_notice
    return any(is_crisis_tag(settings, tag) for tag in article.tags)


# --- Which words speak of suicide (docs/topics.md, "Which words count") --------------------
#
# Text and tags are compared as skeletons (crisis_skeleton): case folded, accents, invisible
# characters and hyphens dropped, look-alike letters read as the Latin letter they imitate.
# The crisis words match inside longer words too, because Dutch compounds freely
# (zelfmoordgedachten, jongerenzelfmoord, suïcidaal); the phrases match whole words.

# Built in: the stems of 113 Zelfmoordpreventie's subject, as skeletons, with the word a
# warning names. They apply while topics.crisis_topics is not empty.
CRISIS_STEMS: tuple[tuple[str, str], ...] = (
    ("zelfmoord", "zelfmoord"),
    ("zelfdod", "zelfdoding"),  # zelfdoding, zelfdodingen, zelfdodend
    ("suicid", "suïcide"),  # suïcide, suïcidaal, suïcidaliteit, suicidepreventie
    ("levensmoe(?!d|i)", "levensmoe"),  # levensmoe(heid), not levensmoed(ig) or -moeilijk
    ("doodswens", "doodswens"),
)
# Whole phrases, for text. Each starts with a letter and checks the word start after it
# (x(?<!\wx) is (?<!\w)x), so the search skips to candidate letters in C; the gaps are
# bounded (\w{1,12}, at most two words), so it stays linear however long the text.
_WANT = r"(?:il|ilt|ilde|ilden|illen|ou|ouden)"  # after the w: wil, wilde, willen, wou
_WHOSE = r"(?:mijn|m'?n|je|jouw|zijn|z'?n|haar|hun|uw|ons|het)"
CRISIS_PHRASES: tuple[tuple[str, str], ...] = (
    (
        rf"e(?<!\we)inde?\s+(?:te\s+)?(?:\w{{1,12}}\s+)?aan\s+{_WHOSE}\s+(?:eigen\s+)?leven(?!\w)",
        "een einde aan het leven",
    ),
    (
        rf"n(?<!\wn)iet\s+meer\s+(?:verder\s+)?(?:te\s+)?w{_WANT}\s+(?:verder\s+)?leven(?!\w)",
        "niet meer willen leven",
    ),
    (
        rf"w(?<!\ww){_WANT}\s+(?:\w{{1,8}}\s+)?niet\s+meer\s+(?:verder\s+)?leven(?!\w)",
        "niet meer willen leven",
    ),
    (
        r"s(?<!\ws)tap(?:t|te|ten)?\s+(?:\w{1,12}\s+){0,2}uit\s+het\s+leven(?!\w)",
        "uit het leven stappen",
    ),
    (r"g(?<!\wg)estapt\s+(?:\w{1,12}\s+){0,2}uit\s+het\s+leven(?!\w)", "uit het leven stappen"),
    (r"u(?<!\wu)it\s+het\s+leven\s+(?:te\s+)?(?:ge)?stap", "uit het leven stappen"),
)
# A configured crisis word this short matches at the start of a word only: inside a word a
# short one matches too much.
_INSIDE_WORDS = 5

_LOOK_ALIKE = {char: letters for letters, chars in LOOK_ALIKES.items() for char in chars}
# Dropped: hyphens (zelf-moord, anti-suïcide), and the Hangul fillers, which show as blanks
# but are letters (marks and format characters such as soft hyphens and ZWSP go by category).
# UTS #39 skeletons of ASCII: 0 reads as o, 1 as l, and rn as m (crisis_skeleton).
_DROPPED = frozenset("-\u2010\u2011\u115f\u1160\u3164\uffa0")
_ASCII_LOOK_ALIKE = {"0": "o", "1": "l"}


class _Skeleton(dict[int, str]):
    """str.translate's map from a character of folded text to what it reads as.

    Filled as characters are met, so translate runs in C for every character seen before;
    cleared when it grows large, so text of many different characters stays bounded.
    """

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if char in _DROPPED or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            letters = ""
        else:
            letters = _ASCII_LOOK_ALIKE.get(char) or _LOOK_ALIKE.get(char, char)
        if len(self) > 20_000:
            self.clear()
        self[code] = letters
        return letters


_SKELETON = _Skeleton()


def crisis_skeleton(text: str) -> str:
    """Return ``text`` as the crisis words are matched: a skeleton in the sense of UTS #39.

    Case folded and decomposed (NFKD), marks, format characters (soft hyphen, ZWSP, ZWJ,
    bidi controls) and hyphens dropped, and every character Unicode's confusables data reads
    as Latin letters replaced by them (confusables.py), so "zеlfmoord" with a Cyrillic е and
    "suıcide" with a dotless ı read as the words they imitate. Linear in the text.
    """
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    # Typographic apostrophes as ASCII ones (m’n), before the skeleton.
    folded = folded.replace("\u2019", "'")
    return folded.translate(_SKELETON).replace("rn", "m")


@lru_cache(maxsize=16)
def _crisis_patterns(words: tuple[str, ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Return the configured words, the stems and the phrases as (pattern, the word a
    warning names); none when ``topics.crisis_topics`` is empty."""
    if not words:
        return ()
    patterns: list[tuple[str, str]] = []
    configured = {crisis_skeleton(word).strip(): word for word in words}
    for skeleton in sorted(configured, key=lambda found: (-len(found), found)):
        if not skeleton:
            continue
        pattern = r"\s+".join(re.escape(part) for part in skeleton.split())
        if sum(char.isalnum() for char in skeleton) < _INSIDE_WORDS:
            first = re.escape(skeleton[0])  # (?<!\w) after the first letter, as above
            pattern = rf"{first}(?<!\w{first}){pattern[len(first) :]}"
        patterns.append((pattern, configured[skeleton]))
    patterns.extend((*CRISIS_STEMS, *CRISIS_PHRASES))
    return tuple((re.compile(pattern), name) for pattern, name in patterns)


@lru_cache(maxsize=16)
def _crisis_search(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """Return all crisis patterns as one, to find the first in a single pass.

    Without groups, and each alternative led by a letter: re then skips ahead to the
    letters that can start one (its charset prefix) instead of trying every position.
    """
    patterns = _crisis_patterns(words)
    if not patterns:
        return None
    return re.compile("|".join(pattern.pattern for pattern, _ in patterns))


def _crisis_name(words: tuple[str, ...], skeleton: str) -> str | None:
    search = _crisis_search(words)
    match = search.search(skeleton) if search is not None else None
    if match is None:
        return None
    # Which alternative it was: the first that matches where the search did.
    return next(
        (
            name
            for pattern, name in _crisis_patterns(words)
            if pattern.match(skeleton, match.start())
        ),
        None,
    )


def crisis_word(settings: Settings, text: str) -> str | None:
    """Return the crisis word or phrase a text speaks of (also inside a compound, and
    however it is disguised: see crisis_skeleton), or None."""
    return _crisis_name(settings.topics.crisis_topics, crisis_skeleton(text))


@lru_cache(maxsize=4096)
def _crisis_tag(words: tuple[str, ...], tag: str) -> bool:
    if topic_slug(tag) in {topic_slug(word) for word in words}:
        return True
    skeleton = crisis_skeleton(tag)
    # "zelf moord" or "#zelf moord" as a tag: the stems also in its letters alone.
    letters = "".join(char for char in skeleton if char.isalnum())
    return any(_crisis_name(words, form) is not None for form in (skeleton, letters))


def is_crisis_tag(settings: Settings, tag: str) -> bool:
    """Tell whether a tag is about suicide: one of ``topics.crisis_topics`` (by slug), or a
    tag that speaks of a crisis word (``zelfmoordpreventie``, ``#zelfdoding``, ``suïcidaal``)."""
    return _crisis_tag(settings.topics.crisis_topics, tag)


_NOTICES: dict[tuple[Any, str], str] = {}


def notice_html(settings: Settings) -> str:
    """Return the notice as an HTML paragraph from the editable ``crisis_notice.html.j2``.

    Rendered once per template version and text: a large build shows it thousands of times.
    """
    segments = notice_segments(settings)
    try:
        environment = templating._environment(
            (settings.project_dir / TEMPLATES_DIR, skeleton_dir() / TEMPLATES_DIR), True
        )
        template: Any = environment.get_template(NOTICE_TEMPLATE)
    except Exception:  # any problem is reported by render() below, naming file and line
        template = None
    key = (template, json.dumps(segments, sort_keys=True))
    if template is None or key not in _NOTICES:
        html = templating.render_web(settings.project_dir, NOTICE_TEMPLATE, {"segments": segments})
        if template is None:
            return html
        if len(_NOTICES) > 32:
            _NOTICES.clear()
        _NOTICES[key] = html
    return _NOTICES[key]


def notice_plain(settings: Settings) -> str:
    """Return the notice for text: every linked number followed by its link."""
    parts = []
    for segment in notice_segments(settings):
        text, href = segment["text"] or "", segment["href"]
        parts.append(f"{text} ({href})" if href and href.startswith("https:") else text)
    return "".join(parts)


def digest_notice(settings: Settings, article: Article) -> dict[str, Any] | None:
    """Return what the digest templates show of the notice for an article, or None."""
    if not has_notice(settings, article):
        return None
    return {"segments": notice_segments(settings), "text": notice_plain(settings)}


def notice_warnings(settings: Settings) -> list[tuple[str, str, str]]:
    """Return (file, field, message) when ``topics.crisis_notice`` names no help line.

    The same warning in check (topic_warnings) and build: a notice without 113 or 0800-0113
    sends a reader in crisis nowhere.
    """
    notice = settings.topics.crisis_notice
    if notice is None or HELP_LINE.search(notice):
        return []
    return [
        (
            str(settings.path),
            "topics.crisis_notice",
            "does not mention 113 or 0800-0113; add 'Bel 113 of gratis 0800-0113, of chat "
            "via 113.nl', or remove the setting to use the default notice",
        )
    ]
