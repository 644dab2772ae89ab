"""The one template mechanism (templating.py): links out, odd files, loops, and web links.

Findings 2, 6 and 7 of the black-box probe: every template a build reads (the digest's, the
topic layer's and feed.xsl) passes the same walls, and every HTML page for the web or the
mail passes the same link filter.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import NOW, RunCli, tree_bytes, write_article
from inert import assert_inert
from nieuwsbrief.errors import BuildError, NieuwsbriefError
from nieuwsbrief.templating import (
    MAX_LOOP_ITERATIONS,
    MAX_TEMPLATE_BYTES,
    _Finder,
    filter_links,
    read_static,
    render,
    safe_web_url,
)

TEMPLATES = [
    "digest.txt.j2",
    "digest.mjml.j2",
    "archive.html.j2",
    "list.html.j2",
    "crisis_notice.html.j2",
    "feed.xsl",
]


def _lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_linked_out_of_the_folder_is_refused_by_build_and_check(
    name: str, project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("GEHEIM-12345 secret\n", "utf-8")
    template = project / "templates" / name
    template.unlink()
    template.symlink_to(secret)
    write_article(  # an article that shows the crisis-line notice (crisis_notice.html.j2)
        project,
        "2025-11-20-hulp.md",
        title="Hulp bij donkere gedachten",
        date="2025-11-20T10:00:00+01:00",
        summary="Waar je terecht kunt.",
        crisis_notice=True,
    )
    out = tmp_path / "out"
    built = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert built.exit_code == 1, built.output
    assert "GEHEIM" not in built.output
    assert any(
        name in line and "outside the templates folder" in line for line in _lines(built.output)
    )
    assert not out.exists() or not any(b"GEHEIM" in data for data in tree_bytes(out).values())
    checked = run_cli("check", "-p", project, "--now", NOW)
    assert checked.exit_code == 1, checked.output
    assert "GEHEIM" not in checked.output and "outside the templates folder" in checked.output


def test_a_fifo_or_a_huge_file_as_template_is_refused_without_blocking(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    os.mkfifo(templates / "pijp.j2")
    (templates / "groot.j2").write_bytes(b"x" * (MAX_TEMPLATE_BYTES + 1))
    (templates / "map.j2").mkdir()
    (templates / "ok.j2").write_text("{% include 'pijp.j2' %}", "utf-8")
    for name, problem in [
        ("pijp.j2", "not a regular file"),
        ("groot.j2", "larger than"),
        ("ok.j2", "not a regular file"),
    ]:
        with pytest.raises(BuildError, match=problem) as caught:
            render(templates, name, {}, html=True)
        assert "\n" not in str(caught.value)
    with pytest.raises(NieuwsbriefError):
        render(templates, "map.j2", {}, html=True)
    with pytest.raises(BuildError, match="not a regular file"):
        read_static(templates, "pijp.j2")


@pytest.mark.parametrize(
    "source",
    [
        "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
        "{% for i in range(2000) %}{% for j in range(2000) %}{{ '' }}{% endfor %}{% endfor %}",
        "{% macro m() %}{% for j in range(99999) %}{% endfor %}{% endmacro %}"
        "{% for i in range(99) %}{{ m() }}{% endfor %}",
        "{% for x in [range(99999)] * 20 recursive %}{% if x is iterable %}{{ loop(x) }}"
        "{% endif %}{% endfor %}",
        "{% set ns = namespace() %}{% for i in range(999) %}{% for j in range(999) %}"
        "{% for k in range(9) %}{% endfor %}{% endfor %}{% endfor %}",
    ],
)
def test_loops_of_one_render_share_one_bound(source: str, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "lus.j2").write_text(source, "utf-8")
    with pytest.raises(BuildError) as caught:
        render(templates, "lus.j2", {}, html=False)
    message = str(caught.value)
    assert message.startswith(str(templates / "lus.j2") + ": ")
    assert f"{MAX_LOOP_ITERATIONS:,} loop steps" in message and "\n" not in message


def test_loops_under_the_bound_give_the_same_text_as_plain_jinja(tmp_path: Path) -> None:
    import jinja2

    source = (
        "{% for i in range(30) %}{{ loop.index }}/{{ loop.length }}{{ loop.last }}"
        "{% for j in 'ab' %}{{ loop.revindex }}{% else %}leeg{% endfor %}{% endfor %}"
        "{% for x in [] %}x{% else %}niets{% endfor %}"
        "{% for t in [[1, [2]], [3]] recursive %}<{% if t is iterable %}{{ loop(t) }}"
        "{% else %}{{ t }}{% endif %}>{% endfor %}"
    )
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "lus.j2").write_text(source, "utf-8")
    plain = jinja2.Environment(keep_trailing_newline=True)  # noqa: S701 - text, as html=False
    expected = plain.from_string(source).render()
    assert render(templates, "lus.j2", {}, html=False) == expected
    # The budget is per render: many renders of a template under the bound all succeed.
    for _ in range(3):
        assert render(templates, "lus.j2", {}, html=False) == expected


def test_an_absolute_include_is_not_found_rather_than_called_a_link(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "a.j2").write_text('{% include "/etc/passwd" %}', "utf-8")
    with pytest.raises(NieuwsbriefError) as caught:
        render(templates, "a.j2", {}, html=False)
    assert "not in templates/" in str(caught.value) and "link" not in str(caught.value)


SAFE = [
    "https://www.example.nl/a?b=c",
    "http://x.nl",
    "mailto:a@b.nl",
    "tel:+31201234567",
    "sms:+31612345678",
    "/pad",
    "pad.html",
    "#boven",
    "?q=1",
    "//cdn.example.nl/x.png",
    "",
]
BAD_SCHEMES = ["javascript", "data", "vbscript", "file", "blob", "jar", "ms-its", "x-evil"]


@st.composite
def disguised(draw: st.DrawFn) -> str:
    """A bad scheme as a browser would still read it: any case, spaces, tabs, entities."""
    scheme = draw(st.sampled_from(BAD_SCHEMES))
    letters = "".join(c.upper() if draw(st.booleans()) else c for c in scheme)
    if draw(st.booleans()):
        at = draw(st.integers(0, len(letters)))
        letters = (
            letters[:at] + draw(st.sampled_from(["\t", "\n", "&#9;", "&#x0A;"])) + letters[at:]
        )
    prefix = draw(st.sampled_from(["", " ", "\x01", "&#32;", "\n"]))
    colon = draw(st.sampled_from([":", "&#58;", "&colon;", "&#x3a;"]))
    return prefix + letters + colon + "alert(1)"


@given(
    bad=disguised(),
    safe=st.sampled_from(SAFE),
    tag=st.sampled_from(
        [
            "a href",
            "img src",
            "form action",
            "iframe src",
            "video poster",
            "object data",
            "img srcset",
            "button formaction",
        ]
    ),
    quote=st.sampled_from(['"', "'"]),
)
def test_the_link_filter_drops_every_disguised_scheme_and_keeps_the_rest(
    bad: str, safe: str, tag: str, quote: str
) -> None:
    element, attribute = tag.split(" ")
    page = (
        f"<p>Tekst over javascript: is gewoon tekst.</p>"
        f'<{element} {attribute}={quote}{bad.replace(quote, "")}{quote} class="x">x'
        f'<a href="{html.escape(safe)}">goed</a>'
    )
    cleaned = filter_links(page, "test")
    assert "javascript: is gewoon tekst" in cleaned
    assert 'class="x"' in cleaned and f"<{element}" in cleaned
    assert f'<a href="{html.escape(safe)}">goed</a>' in cleaned
    for value in re.findall(r"""(?:href|src|action|poster|data|srcset)=["']([^"']*)""", cleaned):
        assert safe_web_url(html.unescape(value)), value
    finder = _Finder()  # the parser that rewrites pages finds nothing left to rewrite
    finder.feed(cleaned)
    assert not finder.fixes, finder.fixes


@given(
    st.lists(
        st.sampled_from(
            ["<a ", "<img ", "href", "src", "srcset", "=", "==", " ", '"', "'", ">", "/",
             "javascript", "data", "http", ":", "&#58;", "&colon;", "x", ",", "\t", "<!--",
             "-->"]
        ),
        max_size=25,
    )
)  # fmt: skip
def test_the_fast_path_never_passes_what_the_parser_would_rewrite(pieces: list[str]) -> None:
    page = "".join(pieces)
    finder = _Finder()
    finder.feed(filter_links(page, "test"))
    finder.close()
    assert not finder.fixes, (page, finder.fixes)


@given(st.sampled_from(SAFE), st.text(max_size=20).filter(lambda t: "<" not in t and "&" not in t))
def test_a_page_without_bad_links_is_returned_byte_for_byte(url: str, text: str) -> None:
    page = (
        f'<!doctype html><html><body><a href="{html.escape(url)}">{text}</a>'
        '<!-- <a href="javascript:x"> --></body></html>\n'
    )
    assert filter_links(page, "test") == page


WEB = ["digest", "email"]


@pytest.mark.parametrize(
    ("name", "anchor", "pages"),
    [
        ("digest.mjml.j2", "{{ intro }}", [f"digests/2025-W48/{n}.html" for n in WEB]),
        ("archive.html.j2", "<body", ["digests/index.html"]),
        ("list.html.j2", "{{ heading }}", ["lists/all.html"]),
    ],
)
def test_a_template_cannot_put_a_script_link_on_a_web_page(
    name: str, anchor: str, pages: list[str], project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    template = project / "templates" / name
    text = template.read_text("utf-8")
    assert anchor in text
    evil = '<a href="javascript:alert(1)">klik</a><img src="data:image/png;base64,AAAA" alt="">'
    at = text.index(anchor)
    at = text.index(">", at) + 1 if anchor.startswith("<") else at + len(anchor)
    template.write_text(text[:at] + evil + text[at:], "utf-8")
    out = tmp_path / "out"
    built = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert built.exit_code == 0, built.output
    for page in pages:
        written = (out / page).read_text("utf-8")
        assert "klik</a>" in written, page  # the text stays, the link goes
        assert "javascript:" not in written and "data:image" not in written, page
    assert_inert(out)
