"""Properties over arbitrary input: every feed parses, every .eml parses, teasers cut cleanly."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import tempfile
from pathlib import Path

import feedparser
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from inert import ANY_TEXT as SHORT_TEXT
from inert import RAW_VALUES, assert_clean_failure, assert_inert, build_and_check, fresh_project
from nieuwsbrief.articles import IGNORED_KEYS, KNOWN_KEYS, parse_article
from nieuwsbrief.config import load_settings
from nieuwsbrief.errors import ArticleError, is_hidden, quote
from nieuwsbrief.markup import strip_xml_illegal, teaser

# Any Unicode except surrogates (which no file can hold as UTF-8).
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)
TITLES = ANY_TEXT.filter(lambda title: strip_xml_illegal(title).strip() != "")
BODIES = st.text(st.characters(exclude_categories=("Cs",)), max_size=400)
# Tags with a hidden character are refused (test_any_tag_is_kept_as_written_or_refused).
JOINERS = "\u200c\u200d"  # a tag keeps them, as a title does (test_bidi.py)


def hidden_in(tag: str) -> list[str]:
    return [char for char in tag if is_hidden(char) and char not in JOINERS]


TAGS = st.lists(ANY_TEXT.filter(lambda tag: not hidden_in(tag)), max_size=4)
SETTINGS = load_settings(REPO / "schedule.yaml")
MOMENT = dt.datetime(2025, 11, 20, 10, tzinfo=SETTINGS.site.timezone)


# What hides in a tag: controls, zero-width and direction characters, blanks, odd spaces.
NASTY_TAG = st.text(
    st.sampled_from([*"\x00\x1b\x7f\x85\xa0\u200b\u200d\u202e\u2060\u3164\ufe0f\ufeff ", *"aé"]),
    max_size=8,
)


def article_text(title: str, tags: list[str], body: str, summary: str | None) -> str:
    front: dict[str, object] = {"title": title, "date": MOMENT.isoformat(), "tags": tags}
    if summary is not None:
        front["summary"] = summary
    return "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n" + body


@settings(max_examples=200, deadline=None)
@given(tag=ANY_TEXT | NASTY_TAG)
def test_any_tag_is_kept_as_written_or_refused(tag: str) -> None:
    """Probe 12, finding 9: a tag is never changed silently. One with a character a reader
    cannot see (control, format, separator, blank: what errors.quote escapes) is refused,
    naming the field and the tag quoted; any other tag is kept as written, trimmed."""
    # Every character as a YAML escape: the parser reads the tag exactly as generated
    # (written raw, YAML would read U+0085 as a line break).
    quoted = "".join(f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}" for c in tag)
    text = f'---\ntitle: "Eigenschap"\ndate: 2025-11-20\ntags: ["{quoted}"]\n---\nTekst.\n'
    path = Path("2025-11-20-eigenschap.md")
    hidden = hidden_in(tag)
    try:
        article = parse_article(path, text, SETTINGS.site)
    except ArticleError as error:
        if not hidden and tag.strip():
            raise
        assert error.field == "tags", str(error)
        if hidden:
            assert quote(tag) in error.problem and f"U+{ord(hidden[0]):04X}" in error.problem
        return
    assert not hidden
    assert article.tags == ((tag.strip(),) if tag.strip() else ())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=TITLES, tags=TAGS, body=BODIES, summary=st.none() | ANY_TEXT)
def test_any_article_gives_valid_feeds_and_email(
    title: str, tags: list[str], body: str, summary: str | None
) -> None:
    from nieuwsbrief.digest import render_digest
    from nieuwsbrief.feeds import render_atom, render_json_feed, render_rss
    from nieuwsbrief.schedule import latest_send_moment, window_ending_at

    text = strip_xml_illegal(article_text(title, tags, body, summary))
    article = parse_article(Path("2025-11-20-eigenschap.md"), text, SETTINGS.site)
    for rendered in (render_rss(SETTINGS, [article]), render_atom(SETTINGS, [article])):
        parsed = feedparser.parse(rendered)
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert len(parsed.entries) == 1
    assert json.loads(render_json_feed(SETTINGS, [article]))["items"][0]["title"] == article.title
    window = window_ending_at(
        SETTINGS.digest, latest_send_moment(SETTINGS.digest, MOMENT + dt.timedelta(days=7))
    )
    digest, _ = render_digest(SETTINGS, window, [article])
    message = email.message_from_bytes(digest.eml, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    assert plain is not None and article.title.split()[0] in plain.get_content()


WORDS = st.lists(
    st.one_of(
        st.text(
            st.characters(exclude_categories=("Cs", "Zs", "Cc", "Zl", "Zp")),
            min_size=1,
            max_size=12,
        ),
        st.sampled_from(["&amp;", "&eacute;", "&#8364;", "café", "’s", "één"]),
    ),
    min_size=1,
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(words=WORDS, limit=st.integers(min_value=10, max_value=300))
def test_teaser_never_cuts_a_word_or_entity(words: list[str], limit: int) -> None:
    text = " ".join(words)
    result = teaser(text, limit)
    if result == text:
        return
    assert result.endswith("…")
    kept = result[:-1].split()
    assert kept, "a teaser keeps at least the first word"
    # Every kept word is whole: the original words, in order, from the start.
    assert kept[:-1] == words[: len(kept) - 1]
    last = words[len(kept) - 1]
    assert kept[-1] == last or (last.startswith(kept[-1]) and kept[-1] == last.rstrip(" ,;:-–—"))
    assert len(result) <= limit or len(kept) == 1


def test_teaser_of_one_long_word_keeps_it_whole() -> None:
    word = "a" * 50
    assert teaser(word, 10) == word


# --- Hostile front matter and templates, through the CLI (see tests/inert.py). -----------

ARTICLE = "2025-11-20-eigenschap.md"
FRONT_KEYS = st.sampled_from(
    [*sorted(KNOWN_KEYS | IGNORED_KEYS), "titel", "<<", "? [a]", "- x", "'x: y'"]
) | SHORT_TEXT.filter(bool).map(lambda key: json.dumps(key, ensure_ascii=False))
FRONT_ENTRIES = st.lists(st.tuples(FRONT_KEYS, RAW_VALUES), min_size=1, max_size=4)


def front_matter(entries: list[tuple[str, str]], with_title: bool) -> str:
    lines = ["title: Eigenschap", "date: 2025-11-20"] if with_title else []
    for key, raw in entries:
        first, *rest = raw.split("\n")
        lines.append(f"{key}: {first}")
        lines += [f"  {line}" for line in rest]
    return "---\n" + "\n".join(lines) + "\n---\n\nTekst van het artikel.\n"


@settings(
    max_examples=70,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(entries=FRONT_ENTRIES, with_title=st.booleans())
def test_any_front_matter_is_inert_or_a_clean_error(
    entries: list[tuple[str, str]], with_title: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        project = fresh_project(Path(folder))
        text = front_matter(entries, with_title)
        (project / "articles" / ARTICLE).write_text(text, encoding="utf-8")
        built, checked = build_and_check(project, Path(folder) / "out")
        if built.exit_code == 0:
            assert_inert(Path(folder) / "out")
            assert checked.exit_code == 0, checked.output
        else:
            assert_clean_failure(built, lambda line: ARTICLE in line)
            assert checked.exit_code == 1, ("check passed what build refused", built.output)
            assert_clean_failure(checked, lambda line: ARTICLE in line)


TEMPLATE_PIECES = st.sampled_from(
    [
        "Hallo ",
        "\n",
        "{{ intro }}",
        "{{ site.title | upper }}",
        "{{ 1 / 0 }}",
        "{{ onbekend }}",
        "{{ site.onbekend.dieper }}",
        "{% if items %}",
        "{% endif %}",
        "{% for item in items %}{{ item.title }}{% endfor %}",
        "{% include 'digest.txt.j2' %}",
        "{% include '../schedule.yaml' %}",
        "{% include '/etc/passwd' %}",
        "{% include 'bestaat-niet.j2' %}",
        "{{ '<script>alert(1)</script>' }}",
        "{{ items[99].title }}",
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
        "{{ intro | wordwrap(0) }}",
        "{{ 'x' * 3 }}",
        "{% set x = 1 %}{{ x }}",
        "{{",
        "}}",
        "{%",
        "{#",
        "{% endfor %}",
        "<mj-text>",
        "</mj-text>",
        "<mj-section>",
        "</mj-column>",
        '<mj-button href="{{ web_url }}">Lees</mj-button>',
        "<mj-raw><p>",
        "<mj-onbekend>",
        "&amp;",
        "<",
        ">",
        '"',
    ]
)
TEMPLATE_PIECES = TEMPLATE_PIECES | st.sampled_from(
    [
        # Loops that write nothing: only a bound on loop steps ends them (finding 6).
        "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
        "{% for i in range(999) %}{% for j in range(999) %}{{ '' }}{% endfor %}{% endfor %}",
        "{% for x in [[1, [2]], [3]] recursive %}{% if x is iterable %}{{ loop(x) }}"
        "{% endif %}{% endfor %}",
        # Links a web page must not carry (finding 7).
        '<a href="javascript:alert(1)">klik</a>',
        '<img src="data:image/png;base64,AAAA" alt="">',
        '<a href=" JaVaScRiPt:alert(2)">x</a>',
        '<a href="&#106;avascript&colon;alert(3)">x</a>',
        "<a href='vbscript:x'>x</a><form action=\"javascript:x\"></form>",
        '<a href="https://www.example.nl/">goed</a>',
    ]
)
# The digest's templates and the topic layer's (finding 2: those were not sandboxed).
TEMPLATE_FILES = st.sampled_from(
    [
        "digest.txt.j2",
        "digest.mjml.j2",
        "archive.html.j2",
        "list.html.j2",
        "crisis_notice.html.j2",
    ]
)


def insert_snippet(template: Path, snippet: str) -> None:
    """Put ``snippet`` into a template where content goes (after the intro, or line 2)."""
    lines = template.read_text("utf-8").split("\n")
    at = next((n + 1 for n, line in enumerate(lines) if "{{ intro }}" in line), 1)
    lines.insert(at, snippet)
    template.write_text("\n".join(lines), encoding="utf-8")


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    name=TEMPLATE_FILES,
    pieces=st.lists(TEMPLATE_PIECES, min_size=1, max_size=5),
    linked_out=st.sampled_from([False, False, False, True]),
)
def test_any_template_text_is_inert_or_a_clean_error(
    name: str, pieces: list[str], linked_out: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        project = fresh_project(Path(folder))
        template = project / "templates" / name
        insert_snippet(template, "".join(pieces))
        (project / "articles" / "2025-11-20-hulp.md").write_text(  # shows crisis_notice.html.j2
            '---\ntitle: "Hulp"\ndate: 2025-11-20T10:00:00+01:00\ncrisis_notice: true\n'
            "---\nTekst.\n",
            "utf-8",
        )
        if linked_out:  # the same text, read through a link to a file outside the project
            secret = Path(folder) / "GEHEIM.j2"
            secret.write_text("GEHEIM-12345 " + template.read_text("utf-8"), "utf-8")
            template.unlink()
            template.symlink_to(secret)
        built, checked = build_and_check(project, Path(folder) / "out")
        if linked_out:
            assert built.exit_code == 1 and checked.exit_code == 1, (built.output, checked.output)
            assert "outside the templates folder" in built.output + checked.output
            out = Path(folder) / "out"
            assert not any(b"GEHEIM" in p.read_bytes() for p in out.rglob("*") if p.is_file())
        if built.exit_code == 0:
            assert_inert(Path(folder) / "out")
            assert checked.exit_code == 0, checked.output
        else:
            assert_clean_failure(built, lambda line: "templates" in line)
            assert checked.exit_code == 1, ("check passed what build refused", built.output)
            assert_clean_failure(checked, lambda line: "templates" in line)


TEXT_FIELDS = ["title", "summary", "author", "image_alt", "slug", "tags", "date", "updated"]
# Mostly what breaks XML, headers and terminals, written as YAML double-quoted escapes.
NASTY_TEXT = st.text(
    st.sampled_from([*"\x00\x01\x08\x0b\x0c\x1b\x7f\x85\x9b\u2028\u2029\ufffe\ud7ff<>&'\"", "a"])
    | st.characters(exclude_categories=("Cs",)),
    max_size=30,
)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(key=st.sampled_from(TEXT_FIELDS), text=NASTY_TEXT, as_list=st.booleans())
def test_any_text_in_a_field_is_inert_or_a_clean_error(key: str, text: str, as_list: bool) -> None:
    raw = json.dumps([text] if as_list else text)  # \\u escapes: YAML turns them back
    title = [] if key == "title" else [("title", '"Eigenschap"')]
    test_any_front_matter_is_inert_or_a_clean_error.hypothesis.inner_test(  # type: ignore[attr-defined]
        [*title, ("date", "2025-11-20"), (key, raw)] if key != "date" else [*title, (key, raw)],
        False,
    )


# Pieces of a body around the raw-text tags that markup.py marks with U+FDD0 before parsing.
SENTINEL_PIECES = st.sampled_from(
    [
        "[de uitleg](https://www.example.nl/zoek?q=",
        "[m](mailto:a@b.nl?body=",
        "![i](https://x.nl/",
        "[h](https://",
        "<https://www.example.nl/",
        "[r]: https://x.nl/",
        "\n\n[ref][r]\n",
        "<style>",
        "</style>",
        "<title>",
        "<textarea>",
        "<script>",
        "<xmp>",
        "<!--",
        "<![CDATA[",
        "<?",
        ".nl/x)",
        ")",
        ">",
        " ",
        "\n",
        "tekst",
        "`",
    ]
)


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(SENTINEL_PIECES | ANY_TEXT, max_size=10))
def test_no_internal_marker_reaches_an_output_for_any_body(pieces: list[str]) -> None:
    """Finding 8: U+FDD0 stood for '<' of raw-text tags and leaked into links, encoded."""
    import re
    from urllib.parse import unquote

    from nieuwsbrief.markup import render_markdown

    body = strip_xml_illegal("".join(pieces))
    try:
        html = render_markdown(body, "https://www.example.nl/")
    except ValueError:  # beyond the body limits: a clean error, nothing written
        return
    noncharacters = re.compile("[\ufdd0-\ufdef]")
    assert not noncharacters.search(html)
    assert not noncharacters.search(unquote(html))
    for label in re.findall(r"xn--[A-Za-z0-9-]+", html):
        try:
            decoded = label[4:].encode("ascii").decode("punycode")
        except UnicodeError:
            continue
        assert not noncharacters.search(decoded), label


def test_a_url_with_a_raw_text_tag_keeps_its_escape() -> None:
    from nieuwsbrief.markup import render_markdown

    html = render_markdown(
        "Zie [de uitleg](https://www.example.nl/zoek?q=<style>) en "
        "[m](mailto:a@b.nl?body=<script>).",
        "https://www.example.nl/",
    )
    assert 'href="https://www.example.nl/zoek?q=%3Cstyle%3E"' in html
    assert 'href="mailto:a@b.nl?body=%3Cscript%3E"' in html


# Letters that NFKD spells out longer in ASCII ('㎉' -> 'kcal', 'ﬃ' -> 'ffi', 'Ⅷ' -> 'VIII').
LONG_SPELLED = st.text(
    st.sampled_from([*"a9-", "\u3389", "\ufb03", "\u2167", "\u00e9"]), min_size=1
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stem=LONG_SPELLED.filter(lambda text: len(text.encode()) <= 240).map(lambda t: t[:80]),
    slug=st.none() | st.text(st.sampled_from("ab9-"), min_size=150, max_size=400),
)
def test_any_long_slug_or_file_name_is_inert_or_a_clean_error(stem: str, slug: str | None) -> None:
    """A slug names files (related/<slug>.json): long ones, typed or spelled out from a file
    name, end in one line naming the article, never in a publish that cannot finish."""
    name = f"2025-11-20-{stem}.md"
    with tempfile.TemporaryDirectory() as folder:
        project = fresh_project(Path(folder))
        front = "---\ntitle: Lang\n" + (f"slug: {slug}\n" if slug is not None else "") + "---\n"
        (project / "articles" / name).write_text(front + "Tekst.\n", encoding="utf-8")
        built, checked = build_and_check(project, Path(folder) / "out")
        if built.exit_code == 0:
            assert_inert(Path(folder) / "out")
            assert checked.exit_code == 0, checked.output
        else:
            assert_clean_failure(
                built, lambda line: "2025-11-20-" in line and "field 'slug'" in line
            )
            assert checked.exit_code == 1, ("check passed what build refused", built.output)
            assert not (Path(folder) / "out" / ".nieuwsbrief-journal.json").exists()
