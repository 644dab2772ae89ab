"""The crisis-line notice cannot be escaped by spelling (docs/topics.md, "Which words count").

An outside probe found that a tag such as ``zelfmoordpreventie`` or ``suïcidaal`` carried no
notice, and that look-alike letters (Cyrillic е in ``zеlfmoord``, dotless ı in ``suıcide``)
escaped both the notice and check's warning. Here every crisis word, in a compound and
disguised with letters from Unicode's confusables data (UTS #39, through ICU, which the
table in confusables.py is made from), case, NFD, soft hyphens and zero-width characters,
gets the notice in the built digest (HTML and text part) and feed item as a tag, and check's
warning in a text. Ordinary words that share letters with them do not.

``python tests/test_crisis_spelling.py`` prints src/nieuwsbrief/confusables.py anew from ICU.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import functools
import json
import os
import re
import unicodedata
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from conftest import NOW, REPO, bare_project, finishes, write_article
from nieuwsbrief import confusables
from nieuwsbrief.config import load_settings
from nieuwsbrief.notice import crisis_skeleton, crisis_word, is_crisis_tag
from test_digest import read_eml
from test_topics import run

# --- Unicode's confusables through ICU (the table's source and the test's oracle) ---------


def _icu_spoof() -> Any:
    """Return ICU's spoof checker and its skeleton function, or None without libicu.

    ICU carries Unicode's confusables.txt (UTS #39) compiled in; the symbols end in the major
    version (uspoof_open_72), read from the library's file name.
    """
    name = ctypes.util.find_library("icui18n")
    match = re.search(r"\.so\.(\d+)", name or "")
    if name is None or match is None:
        return None
    library = ctypes.CDLL(name)
    version = match[1]
    open_checker = getattr(library, f"uspoof_open_{version}")
    open_checker.restype = ctypes.c_void_p
    open_checker.argtypes = [ctypes.POINTER(ctypes.c_int)]
    skeleton = getattr(library, f"uspoof_getSkeletonUTF8_{version}")
    skeleton.restype = ctypes.c_int32
    skeleton.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_char_p,
        ctypes.c_int32,
        ctypes.c_char_p,
        ctypes.c_int32,
        ctypes.POINTER(ctypes.c_int),
    ]
    status = ctypes.c_int(0)
    checker = open_checker(ctypes.byref(status))
    if status.value > 0:
        return None
    return checker, skeleton, version


_ICU = _icu_spoof()


def icu_skeleton(text: str) -> str:
    """Return the UTS #39 skeleton of ``text``, as ICU computes it."""
    assert _ICU is not None
    checker, skeleton, _ = _ICU
    data = text.encode("utf-8")
    buffer = ctypes.create_string_buffer(4 * len(data) + 64)
    status = ctypes.c_int(0)
    size = skeleton(checker, 0, data, len(data), buffer, len(buffer), ctypes.byref(status))
    assert status.value <= 0, (text, status.value)
    return buffer.raw[:size].decode("utf-8")


def _folded(text: str) -> str:
    """Case folded and decomposed, marks and invisible format characters dropped."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return "".join(
        char for char in decomposed if unicodedata.category(char) not in ("Mn", "Me", "Cf")
    )


@functools.lru_cache(maxsize=1)
def icu_look_alikes() -> dict[str, str]:
    """Return {ASCII letters: the characters whose skeleton they are}, from ICU's data.

    Every character that folding leaves outside ASCII and whose skeleton folds to ASCII
    letters (a-z): Cyrillic е, dotless ı, Greek ο, Cherokee and the rest.
    """
    found: dict[str, set[str]] = {}
    seen: set[str] = set()
    for code in range(0x110000):
        if 0xD800 <= code < 0xE000:
            continue
        for char in _folded(chr(code)):
            if char.isascii() or char in seen:
                continue
            seen.add(char)
            letters = _folded(icu_skeleton(char))
            if re.fullmatch("[a-z]+", letters):
                found.setdefault(letters, set()).add(char)
    return {letters: "".join(sorted(chars)) for letters, chars in sorted(found.items())}


def table_module() -> str:
    """Return the source of src/nieuwsbrief/confusables.py, made from ICU's data."""
    assert _ICU is not None
    lines = []
    for letters, chars in icu_look_alikes().items():
        escaped = "".join(
            f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"
            for char in chars
        )
        # Lines of at most 100 characters: split the escapes over implicit concatenation.
        pieces = re.findall(r"(?:\\u[0-9a-f]{4}|\\U[0-9a-f]{8}){1,7}", escaped)
        if len(pieces) == 1:
            lines.append(f'    "{letters}": "{pieces[0]}",')
        else:
            lines.append(f'    "{letters}": (')
            lines.extend(f'        "{piece}"' for piece in pieces)
            lines.append("    ),")
    body = "\n".join(lines)
    return TABLE_TEMPLATE.format(version=_ICU[2], body=body)


TABLE_TEMPLATE = '''"""Look-alikes of Latin letters, for the crisis-word match (notice.py).

From Unicode's confusables data (UTS #39, confusables.txt) as ICU {version} carries it: every
character that case folding and NFKD (marks dropped) leave outside ASCII and whose UTS #39
skeleton folds to ASCII letters, keyed by those letters. Cyrillic "\\u0435" and Greek
"\\u03bf" look like e and o; dotless "\\u0131" like i; "\\u0271" like m (its skeleton is rn,
which is m's too). Printed by ``python tests/test_crisis_spelling.py`` (into another file,
then moved here and ruff-formatted) when ICU's data changes; its tests check this table
against ICU's skeleton.
"""

LOOK_ALIKES: dict[str, str] = {{
{body}
}}
'''


# --- The table is Unicode's data --------------------------------------------------------

@pytest.fixture
def icu_present() -> None:
    """ICU for the table's check: a skip where it is missing, a failure under CI.

    Without it the table cannot be checked against Unicode's data, and the disguise
    properties draw from the shipped table only.
    """
    if _ICU is None:
        message = "ICU's libicui18n is not installed (apt-get install libicu-dev)"
        if os.environ.get("CI"):
            pytest.fail(message + "; .ci/run must install it")
        pytest.skip(message)


needs_icu = pytest.mark.usefixtures("icu_present")
SHIPPED_ICU = re.search(r"as ICU (\d+) carries it", confusables.__doc__ or "")


@needs_icu
def test_the_look_alike_table_is_what_unicodes_confusables_data_says() -> None:
    assert SHIPPED_ICU is not None
    shipped = confusables.LOOK_ALIKES
    for letters, chars in shipped.items():
        for char in chars:
            assert _folded(icu_skeleton(char)) == letters, (hex(ord(char)), letters)
    if _ICU is not None and _ICU[2] == SHIPPED_ICU[1]:
        # The same data: the same table, nothing left out.
        assert shipped == icu_look_alikes()


# --- Disguises --------------------------------------------------------------------------

# The look-alikes of each letter: from ICU where it is, else from the shipped table.
SOURCE = icu_look_alikes() if _ICU is not None else confusables.LOOK_ALIKES
LOOK_ALIKE = {letters: sorted(chars) for letters, chars in SOURCE.items()}
LOOK_ALIKE["m"] = sorted(LOOK_ALIKE.get("m", "")) + sorted(LOOK_ALIKE.get("rn", "")) + ["rn"]
INVISIBLE = ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
# The crisis words, and the compounds Dutch makes of them.
CRISIS_WORDS = [
    "zelfmoord",
    "zelfmoorden",
    "zelfdoding",
    "zelfdodingen",
    "suïcide",
    "suïcidaal",
    "suïcidale",
    "suïcidaliteit",
    "levensmoe",
    "levensmoeheid",
    "doodswens",
]
PREFIXES = ["", "#", "jongeren", "anti-", "preventie van ", "Over "]
SUFFIXES = ["", "gedachten", "preventie", "pogingen", "cijfers", "-onderzoek", "s"]


@st.composite
def disguised(draw: st.DrawFn, word: str) -> str:
    """Return ``word`` with look-alike letters, case changes, marks and invisible characters."""
    out = []
    for index, char in enumerate(word):
        base = unicodedata.normalize("NFD", char)
        letter, marks = base[0], base[1:]
        choice = draw(st.sampled_from(["same", "upper", "look-alike"]))
        if choice == "upper":
            letter = letter.upper()
        elif choice == "look-alike" and LOOK_ALIKE.get(letter):
            letter = draw(st.sampled_from(LOOK_ALIKE[letter]))
            if draw(st.booleans()):
                letter = letter.upper()
        out.append(letter + marks)
        if index and draw(st.integers(0, 3)) == 0:
            out.insert(-1, draw(st.sampled_from(INVISIBLE)))
    text = "".join(out)
    form = draw(st.sampled_from(["NFC", "NFD", None]))
    return unicodedata.normalize(form, text) if form else text


@st.composite
def crisis_compounds(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(CRISIS_WORDS))
    return draw(st.sampled_from(PREFIXES)) + draw(disguised(word)) + draw(st.sampled_from(SUFFIXES))


PHRASES = [
    "Hij wilde een einde maken aan zijn leven.",
    "Ze maakte een eind aan haar leven",
    "een einde aan mijn leven",
    "Soms wil ik niet meer leven.",
    "niet meer willen leven",
    "Mijn broer stapte vorig jaar uit het leven.",
    "besloot uit het leven te stappen",
]
# Words that share letters with the crisis words and are not about suicide: no notice, no
# warning. Self-harm (zelfbeschadiging) is not suicide: 113's notice is for suicide; a
# practice that wants it there too adds the word to topics.crisis_topics. A murder in a
# crime novel is not a suicide.
ORDINARY = [
    "zelfzorg",
    "zelfbeeld",
    "zelfvertrouwen",
    "zelfcompassie",
    "zelfdiscipline",
    "zelfbeschadiging",
    "zelfmedicatie",
    "moord",
    "moordenaar",
    "Een moord in Amsterdam: de nieuwe thriller is spannend tot het eind.",
    "levenslust",
    "levensmoed",
    "levensmoeilijkheden",
    "doodsangst",
    "suikerziekte",
    "suite",
    "Aan het einde van het leven: palliatieve zorg.",
    "Ik wil niet meer piekeren.",
    "Hij stapte uit de trein en in het leven.",
]
SETTINGS = load_settings(REPO / "schedule.yaml")  # the default crisis words


# --- The match itself -------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(tag=crisis_compounds())
def test_a_disguised_crisis_word_is_a_crisis_tag_and_a_crisis_text(tag: str) -> None:
    assert is_crisis_tag(SETTINGS, tag), (tag, crisis_skeleton(tag))
    assert crisis_word(SETTINGS, f"Een tekst over {tag} en meer.") is not None, tag


@pytest.mark.parametrize("phrase", PHRASES)
def test_a_phrase_about_ending_ones_life_is_a_crisis_text(phrase: str) -> None:
    assert crisis_word(SETTINGS, phrase) is not None
    # Disguised the same way: an ı in "wil" or a soft hyphen in "leven" changes nothing.
    disguised_phrase = phrase.replace("i", "\u0131").replace("leven", "le\u00adven")
    assert crisis_word(SETTINGS, disguised_phrase) is not None, disguised_phrase


@settings(max_examples=200, deadline=None)
@given(data=st.data(), word=st.sampled_from(ORDINARY))
def test_ordinary_words_stay_ordinary_however_they_are_spelled(data: Any, word: str) -> None:
    spelled = data.draw(disguised(word))
    assert crisis_word(SETTINGS, spelled) is None, (spelled, crisis_skeleton(spelled))
    assert not is_crisis_tag(SETTINGS, spelled), spelled


def test_an_empty_crisis_topics_list_switches_the_notice_and_the_warning_off() -> None:
    off = dataclasses.replace(
        SETTINGS, topics=dataclasses.replace(SETTINGS.topics, crisis_topics=())
    )
    assert crisis_word(off, "zelfmoordgedachten") is None
    assert not is_crisis_tag(off, "zelfmoordpreventie")


def test_a_configured_word_matches_inside_compounds_and_a_short_one_at_word_starts() -> None:
    own = dataclasses.replace(
        SETTINGS, topics=dataclasses.replace(SETTINGS.topics, crisis_topics=("wanhoop", "Ai"))
    )
    assert crisis_word(own, "een wanhoopsdaad") == "wanhoop"
    assert crisis_word(own, "een wаnhооpsdaad") == "wanhoop"  # Cyrillic а and о
    assert crisis_word(own, "Ai, dat doet pijn") == "Ai"
    assert crisis_word(own, "de kaaiman") is None  # short: not inside a word
    assert crisis_word(own, "zelfmoord") == "zelfmoord"  # the built-in stems stay


@pytest.mark.parametrize(
    "body",
    [
        "stap " + "a" * 12 + " " + "stap " * 400_000,
        ("wil " + "b" * 3000 + " ") * 600,
        "einde " * 330_000,
        "\u0435\u200b" * 1_000_000,
        "".join(chr(code) for code in range(0x4E00, 0x9FA5)) * 95,
        "zelf-" * 400_000,
    ],
    ids=["stap", "wil", "einde", "cyrillic", "many-characters", "zelf"],
)
def test_the_largest_article_is_matched_without_hanging(body: str) -> None:
    """Liveness for 2 MB bodies made to backtrack: linear in bench, never timed here."""
    with finishes("the crisis-word match of a 2 MB body"):
        assert crisis_word(SETTINGS, body) is None


# --- What the reader gets: built outputs and check --------------------------------------


NOTICE = "Bel 113 of gratis 0800-0113"


def notices(out: Path) -> tuple[list[str], int, dict[str, bool]]:
    """Return the titles in the digest before each notice, the text part's notice count,
    and per feed item's title whether it carries the notice."""
    message = read_eml(next((out / "digests").glob("*/digest.eml")))
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    assert isinstance(html_part, EmailMessage) and isinstance(text_part, EmailMessage)
    page = lxml_html.fromstring(html_part.get_content())
    text = page.text_content()
    before = []
    for notice in page.find_class("nb-crisis"):
        assert NOTICE in notice.text_content()
        hrefs = [a.get("href") for a in notice.iter("a")]
        assert hrefs[:3] == ["tel:113", "tel:08000113", "https://www.113.nl/"]
        start = text.index(notice.text_content())
        # The title nearest before the notice: the item it ends.
        before.append(max(("Eerste", "Tweede"), key=lambda title: text.rfind(title, 0, start)))
    plain = text_part.get_content().count(NOTICE)
    items = json.loads((out / "feed.json").read_text("utf-8"))["items"]
    feed = {item["title"]: 'class="nb-crisis"' in item["content_html"] for item in items}
    return before, plain, feed


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tag=crisis_compounds(), mention=crisis_compounds())
def test_a_disguised_crisis_tag_gets_the_notice_and_a_disguised_text_the_warning(
    tmp_path_factory: pytest.TempPathFactory, tag: str, mention: str
) -> None:
    root = tmp_path_factory.mktemp("disguised")
    project = bare_project(root / "project")
    # Eerste has the crisis word as its tag; Tweede only in its text.
    write_article(
        project,
        "2025-11-20-eerste.md",
        "Over donkere dagen.",
        title="Eerste",
        date="2025-11-20T10:00:00+01:00",
        tags=[tag, "somberheid"],
    )
    write_article(
        project,
        "2025-11-21-tweede.md",
        f"Een tekst over {mention}, zonder hulplijn.",
        title="Tweede",
        date="2025-11-21T10:00:00+01:00",
        tags=["somberheid"],
    )
    with finishes("a build with disguised crisis words"):
        built = run("build", "-p", project, "-o", root / "out", "--now", NOW)
    visible = re.sub("[\u00ad\u200b\u2060\ufeff]", "", tag)
    if visible != tag:
        # A tag with an invisible character other than ZWJ/ZWNJ is refused (content-rules.md):
        # no article about suicide goes out without the notice, and the editor is told.
        assert built.exit_code == 1, built.output
        [line] = [line for line in built.output.splitlines() if "eerste.md" in line]
        assert "field 'tags'" in line and "invisible or control character" in line, line
        # Still disguised by look-alikes, case, marks and joiners: that tag is accepted.
        write_article(
            project,
            "2025-11-20-eerste.md",
            "Over donkere dagen.",
            title="Eerste",
            date="2025-11-20T10:00:00+01:00",
            tags=[visible, "somberheid"],
        )
        with finishes("a build with disguised crisis words"):
            built = run("build", "-p", project, "-o", root / "out", "--now", NOW)
        tag = visible
    assert built.exit_code == 0, built.output
    before, plain, feed = notices(root / "out")
    assert before == ["Eerste"], (tag, before)  # one notice, in the item of Eerste
    assert plain == 1, tag
    assert feed == {"Eerste": True, "Tweede": False}, tag
    checked = run("check", "-p", project, "--now", NOW)
    warned = [line for line in checked.output.splitlines() if "crisis-line notice" in line]
    assert len(warned) == 1 and "2025-11-21-tweede.md" in warned[0], (mention, checked.output)


def test_ordinary_words_give_no_notice_and_no_warning(tmp_path: Path) -> None:
    project = bare_project(tmp_path / "project")
    for day, word in enumerate(ORDINARY, start=1):
        write_article(
            project,
            f"2025-11-{day:02d}-gewoon-{day}.md",
            f"Een tekst over {word}.",
            title=f"Gewoon {day}",
            date=f"2025-11-{day:02d}T10:00:00+01:00",
            summary=word,
            tags=[word[:60]],
        )
    built = run("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert built.exit_code == 0, built.output
    before, plain, feed = notices(tmp_path / "out")
    assert (before, plain) == ([], 0)
    assert len(feed) == len(ORDINARY) and not any(feed.values())
    index = json.loads((tmp_path / "out" / "tags" / "index.json").read_text("utf-8"))
    assert not any(topic["crisis_notice"] for topic in index["topics"])
    checked = run("check", "-p", project, "--now", NOW)
    assert "crisis-line notice" not in checked.output, checked.output


def test_a_compound_tag_marks_its_topic_in_the_index(tmp_path: Path) -> None:
    project = bare_project(tmp_path / "project")
    write_article(
        project,
        "2025-11-20-preventie.md",
        "Over preventie.",
        title="Preventie",
        date="2025-11-20T10:00:00+01:00",
        tags=["zelfmoordpreventie", "slaap"],
    )
    assert run("build", "-p", project, "-o", tmp_path / "out", "--now", NOW).exit_code == 0
    index = json.loads((tmp_path / "out" / "tags" / "index.json").read_text("utf-8"))
    flags = {topic["slug"]: topic["crisis_notice"] for topic in index["topics"]}
    assert flags == {"zelfmoordpreventie": True, "slaap": False}


if __name__ == "__main__":
    print(table_module(), end="")
