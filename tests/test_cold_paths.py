"""The cold build's faster paths give what the plain ones give (issue 15, differential).

Each faster path is compared with the plain code it stands in for, on generated input that
includes what must defeat it: the body limits' whole-body bounds with the line scan (also
under tiny limits, so that bodies near and over them are common), the teaser's shorter
first parse and per-block inline parse with markdown-it's full parse, the lists' one
template load per build with ``render_web`` and their pre-serialized JSON items with
``json_bytes``, and the link filter's faster scan with its former pattern.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, RunCli, tree_bytes, write_article
from nieuwsbrief import lists, markup, templating
from nieuwsbrief.errors import BuildError
from nieuwsbrief.jsonout import json_bytes
from nieuwsbrief.templating import URL_ATTRIBUTES, WebRenderer, render_web

# -- generated Markdown --------------------------------------------------------------------

_WORDS = st.sampled_from(
    ["angst", "Slaap", "*nadruk*", "_zacht_", "`code`", "**sterk**", "a&b", "x<y", "~~weg~~",
     "[link](https://a.nl/x)", "[ref][r]", "[r]", "![beeld](/b.png)", "<b>vet</b>", "<br>",
     "\\[", "\\*", "113", "|", "é", "[open", "dicht]", "<i>", "</i>", "&amp;", "<!--", "-->"]
)  # fmt: skip
_TEXT = st.lists(_WORDS, min_size=1, max_size=6).map(" ".join)
_INDENT = st.sampled_from(["", " ", "  ", "   ", "    ", "\t", "      "])
_LINE = st.one_of(
    _TEXT,
    st.tuples(_INDENT, st.sampled_from(["- ", "* ", "+ ", "1. ", "2) ", "-"]), _TEXT).map("".join),
    st.tuples(st.sampled_from(["> ", ">> ", "> > ", "   > ", "> - "]), _TEXT).map("".join),
    st.tuples(st.sampled_from(["# ", "## ", "###### "]), _TEXT).map("".join),
    st.sampled_from(["===", "---", "***", "```", "~~~", "````py", "    code", "[r]: /doel",
                     "  [r]: https://b.nl 'titel'", "> [r]: /in-citaat", "<div>", "</div>",
                     "<div><div><div>", "<pre>", "</pre>", "| a | b |", "|---|---|", "",
                     " ", "<!-- open", "<?x", "[r]:", "- [r]: /lijst"]),
)  # fmt: skip
MARKDOWN = st.lists(_LINE, max_size=14).map("\n".join)


def _old_body_problem(body: str) -> tuple[int, str, str] | None:
    return markup._scan_for_problem(body)  # the line scan body_problem always ran


TINY_LIMITS = {
    "MAX_MARKDOWN_DEPTH": 2,
    "MAX_HTML_DEPTH": 2,
    "MAX_BRACKET_WORK": 40,
    "MAX_NESTING_WORK": 6,
    "MAX_MARKUP": 12,
}


@given(body=MARKDOWN, tiny=st.booleans())
@settings(max_examples=400, deadline=None)
def test_body_problem_answers_as_the_line_scan(body: str, tiny: bool) -> None:
    limits = TINY_LIMITS if tiny else {"MAX_MARKUP": markup.MAX_MARKUP}
    with mock.patch.multiple(markup, **limits):
        assert markup.body_problem(body) == _old_body_problem(body)
        if markup._within_limits(body):  # the bound is only ever a proof of "no problem"
            assert _old_body_problem(body) is None


def test_body_problem_still_finds_each_problem() -> None:
    deep = "\n".join(">" * 40 + " tekst" for _ in range(2))
    assert markup.body_problem(deep) == _old_body_problem(deep) is not None
    tags = "<div>" * 70
    assert markup.body_problem(tags) == _old_body_problem(tags) is not None
    brackets = "[" * 3000 + "a" * 1000
    assert markup.body_problem(brackets) == _old_body_problem(brackets) is not None
    markup_heavy = "*" * (markup.MAX_MARKUP + 1)
    assert markup.body_problem(markup_heavy) == _old_body_problem(markup_heavy) is not None
    # Over a whole-body bound, yet within the limits: the line scan decides (code blocks).
    fenced = "```\n" + "<div>" * 70 + "\n```\ntekst"
    assert not markup._within_limits(fenced)
    assert markup.body_problem(fenced) is None


def _eager_block_tokens(text: str) -> tuple[list[Any], Any]:
    return markup._markdown().parse(text), lambda token: None


def _old_first_paragraph_text(source: str) -> str:
    """first_paragraph_text as it was: markdown-it's whole parse of the opening."""
    with (
        mock.patch.object(markup, "_block_tokens", _eager_block_tokens),
        mock.patch.object(markup, "_first_try", lambda opening: None),
    ):
        return markup.first_paragraph_text.__wrapped__(source)


def test_the_teaser_parse_runs_the_core_rules_markdown_it_runs() -> None:
    # _block_tokens runs normalize and block, then inline and text_join per token.
    assert markup._markdown().core.ruler.get_active_rules() == [
        "normalize",
        "block",
        "inline",
        "text_join",
    ]


@given(
    source=MARKDOWN,
    first_try=st.sampled_from([0, 5, 30, 200]),
    opening=st.sampled_from([20, 60, 1200]),
)
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_teaser_text_is_what_the_whole_parse_gives(
    source: str, first_try: int, opening: int
) -> None:
    # Small cut points, so that generated bodies of a few lines are cut as long ones are.
    with mock.patch.multiple(markup, FIRST_TRY_CHARS=first_try, OPENING_CHARS=opening):
        expected = _old_first_paragraph_text(source)
        assert markup.first_paragraph_text.__wrapped__(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "Eerste alinea die lang genoeg is.\n\n- een\n\n- twee",
        "- een\n\n- twee\n\nDan tekst.",
        "- een\n\n\n- twee",
        "1. een\n\n2. twee\n\n3. drie",
        "> een\n\n> twee",
        "- een\n\n  nog bij een\n\nTekst",
        "Zie [hier][r] voor meer.\n\nTekst\n\n> [r]: /in-een-citaat",
        "Zie [hier][r].\n\nTekst\n\n- [r]: /in-een-lijst",
        "Kop\n\nTekst\n===",
        "```\nnooit gesloten\n\nTekst",
        "Tekst\n\n   \nnog",
    ],
)
@pytest.mark.parametrize("cuts", [(0, 12), (0, 1200), (3, 1200), (200, 1200)])
def test_teaser_shortcut_on_the_cases_that_must_defeat_it(
    source: str, cuts: tuple[int, int]
) -> None:
    first_try, opening = cuts
    with mock.patch.multiple(markup, FIRST_TRY_CHARS=first_try, OPENING_CHARS=opening):
        expected = _old_first_paragraph_text(source)
        assert markup.first_paragraph_text.__wrapped__(source) == expected


# -- the lists -----------------------------------------------------------------------------

_VALUE = st.lists(
    st.sampled_from([*"aZ é&<>\"'\\/:;,\n\t{}[]", "javascript:", "\u2028", "😀"]), max_size=8
).map("".join)
_ITEM = st.fixed_dictionaries(
    {
        "title": _VALUE,
        "url": st.one_of(_VALUE, st.just("https://a.nl/x?a=1&b=2")),
        "date": _VALUE,
        "date_text": _VALUE,
        "teaser": _VALUE,
        "crisis_notice": st.one_of(st.none(), _VALUE),
    }
)


@given(
    items=st.lists(_ITEM, max_size=4),
    heading=_VALUE,
    topic=st.one_of(st.none(), st.fixed_dictionaries({"slug": _VALUE, "name": _VALUE})),
    article=st.one_of(st.none(), _VALUE),
)
def test_list_json_is_json_bytes(
    items: list[dict[str, Any]], heading: str, topic: dict[str, str] | None, article: str | None
) -> None:
    data: dict[str, Any] = {"kind": "related", "heading": heading, "topic": topic}
    if article is not None:
        data["article"] = article
    pieces = []
    for item in items:
        alone = json_bytes(item, sort_keys=True).rstrip(b"\n")
        pieces.append(lists._ITEM_INDENT + alone.replace(b"\n", b"\n" + lists._ITEM_INDENT))
    assert lists._list_json(data, pieces) == json_bytes({**data, "items": items}, sort_keys=True)


def _list_context(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "kind": "topic",
        "heading": 'Artikelen over <angst> & "slaap"',
        "topic": {"slug": "angst", "name": "Angst"},
        "address_form": "je",
        "items": items,
    }


@given(items=st.lists(_ITEM, max_size=3))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_web_renderer_renders_as_render_web(project: Path, items: list[dict[str, Any]]) -> None:
    notice = [{"text": "Bel ", "href": None}, {"text": "113", "href": "tel:113"}]
    for index, item in enumerate(items):
        item["notice"] = notice if index % 2 else None
    context = _list_context(items)
    renderer = WebRenderer(project, lists.LIST_TEMPLATE)
    expected = render_web(project, lists.LIST_TEMPLATE, context)
    assert renderer.render(context) == expected
    assert renderer.render(context) == expected  # and again, from its loaded template


def _error(call: Any) -> str:
    with pytest.raises(BuildError) as caught:
        call()
    return str(caught.value)


@pytest.mark.parametrize(
    "template",
    [
        "{% for i in range(2000000) %}x{% endfor %}",  # the loop budget
        "{{ 'x' * 2000000 }}",  # the * bound
        "{% for i in range(1000) %}{{ 'x' * 999999 }}{% endfor %}",  # the output bound
        "{{ items.__class__ }}",  # the sandbox
        "{% if %}",  # a syntax error
        '{% include "nergens.html.j2" %}',  # an include that is not there
        '<a href="javascript:alert(1)" title="x">{{ heading }}</a>',  # the link filter
    ],
)
def test_web_renderer_keeps_every_wall_of_render_web(project: Path, template: str) -> None:
    (project / "templates" / lists.LIST_TEMPLATE).write_text(template, "utf-8")
    context = _list_context([])
    renderer = WebRenderer(project, lists.LIST_TEMPLATE)
    try:
        expected = render_web(project, lists.LIST_TEMPLATE, context)
    except BuildError as exc:
        assert _error(lambda: renderer.render(context)) == str(exc)
        assert _error(lambda: renderer.render(context)) == str(exc)
    else:
        assert renderer.render(context) == expected
        assert "javascript" not in expected


def test_web_renderer_refuses_a_templates_folder_linked_outside(
    project: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elders"
    (project / "templates").rename(outside)
    (project / "templates").symlink_to(outside)
    expected = _error(lambda: render_web(project, lists.LIST_TEMPLATE, _list_context([])))
    renderer = WebRenderer(project, lists.LIST_TEMPLATE)
    assert _error(lambda: renderer.render(_list_context([]))) == expected


def test_web_renderer_uses_the_package_template_behind_the_projects(project: Path) -> None:
    (project / "templates" / lists.LIST_TEMPLATE).unlink()
    context = _list_context([])
    assert WebRenderer(project, lists.LIST_TEMPLATE).render(context) == render_web(
        project, lists.LIST_TEMPLATE, context
    )


_OLD_URL_VALUE = re.compile(
    r"""(?<=[\s/'"])(?:"""
    + "|".join(sorted(map(re.escape, URL_ATTRIBUTES), key=len, reverse=True))
    + r""")\s*=+\s*('[^']*'|"[^"]*"|(?!['"])[^>\s]*)""",
    re.IGNORECASE,
)
_PAGE_PIECE = st.one_of(
    st.sampled_from(sorted(URL_ATTRIBUTES)).map(lambda name: name.upper() if "c" in name else name),
    st.sampled_from(["<a ", "<img ", ">", " ", "/", "'", '"', "=", "==", "x", "Data", "ſrc",
                     "\u212aey", "\n", "javascript:alert(1)", "https://a.nl", "tel:113", "&#106;"]),
)  # fmt: skip


@given(page=st.lists(_PAGE_PIECE, max_size=30).map("".join))
def test_url_value_scan_finds_what_the_former_pattern_found(page: str) -> None:
    found = [(match.span(), match.group(1)) for match in templating._URL_VALUE.finditer(page)]
    assert found == [(match.span(), match.group(1)) for match in _OLD_URL_VALUE.finditer(page)]


_SPACES = st.sampled_from([" ", "\t", "\n", "\u00a0", "\u2003", "\x1c", "  "])


@settings(max_examples=500)
@given(
    page=st.lists(
        _PAGE_PIECE | _SPACES | st.sampled_from(["xlink:href", "aHref", "srcset=", '="', "'"]),
        max_size=40,
    ).map("".join)
)
def test_url_values_are_the_patterns_matches(page: str) -> None:
    # Only where a match can start is the pattern tried: the same matches, in order.
    expected = [(match.span(), match.group(1)) for match in templating._URL_VALUE.finditer(page)]
    found = [(match.span(), match.group(1)) for match in templating._url_values(page)]
    assert found == expected


def test_url_values_of_a_rendered_list_are_the_patterns_matches(project: Path) -> None:
    items = [
        {"title": f"T{n}", "url": f"https://a.nl/{n}", "date": "2025-11-20", "date_text": "x",
         "teaser": "Een = teken, src = 'x' en href=\"javascript:y\"", "notice": None}
        for n in range(5)
    ]  # fmt: skip
    context = {"kind": "all", "heading": "H", "topic": None, "address_form": "je", "items": items}
    page = templating.WebRenderer(project, "list.html.j2").render(context)
    page += " <a HREF = \"javascript:x\" data=1 xlink:href='y'>"
    expected = [(match.span(), match.group(1)) for match in templating._URL_VALUE.finditer(page)]
    assert len(expected) > 10
    assert [(match.span(), match.group(1)) for match in templating._url_values(page)] == expected


# -- whole builds --------------------------------------------------------------------------


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bodies=st.lists(MARKDOWN, min_size=3, max_size=3))
def test_a_build_writes_what_it_wrote_without_the_faster_paths(
    bodies: list[str], tmp_path_factory: pytest.TempPathFactory, run_cli: RunCli
) -> None:
    from conftest import copy_example_project

    root = tmp_path_factory.mktemp("paths")
    project = copy_example_project(root / "project")
    for index, body in enumerate(bodies):
        write_article(
            project,
            f"2025-11-{10 + index}-gegenereerd-{index}.md",
            body + "\n\nSlot.",
            title=f"Gegenereerd {index}",
            date=f"2025-11-{10 + index}",
            tags=["angst", "slaap"],
        )
    fast = run_cli("build", "-p", project, "-o", root / "fast", "--now", NOW, "--no-cache")

    def plain_render_web(self: WebRenderer, context: Any) -> str:
        return render_web(self.templates.parent, self.name, context)

    with (
        mock.patch.object(markup, "_within_limits", lambda body: False),
        mock.patch.object(markup, "_first_try", lambda opening: None),
        mock.patch.object(markup, "_block_tokens", _eager_block_tokens),
        mock.patch.object(templating, "_URL_VALUE", _OLD_URL_VALUE),
        mock.patch.object(templating, "_url_values", _OLD_URL_VALUE.finditer),
        mock.patch.object(WebRenderer, "render", plain_render_web),
        mock.patch.object(lists, "_list_json", _plain_list_json),
    ):
        markup.first_paragraph_text.cache_clear()
        plain = run_cli("build", "-p", project, "-o", root / "plain", "--now", NOW, "--no-cache")
    markup.first_paragraph_text.cache_clear()
    assert fast.exit_code == plain.exit_code
    assert fast.output.replace(str(root / "fast"), "OUT") == plain.output.replace(
        str(root / "plain"), "OUT"
    )
    assert tree_bytes(root / "fast") == tree_bytes(root / "plain")


def _plain_list_json(data: dict[str, Any], item_jsons: list[bytes]) -> bytes:
    items = [json.loads(piece) for piece in item_jsons]
    return json_bytes({**data, "items": items}, sort_keys=True)


# -- URLs ----------------------------------------------------------------------------------

_URL_PIECE = st.sampled_from(
    ["https:", "http:", "mailto:", "tel:", "HTTPS:", "//", "/", "a", "Ü", "é", "münchen",
     "xn--mnchen-3ya", ".", "\u3002", "\uff0e", "@", ":", "8080", "[", "]", "::1", "%20",
     "%zz", "%C3%A9", " ", "?", "#", "&", "=", "\\", "'", '"', "<", ">", "~", "😀", "\u200d",
     "-", "_", "xn--", "ß", "İ", "\t"]
)  # fmt: skip


@given(url=st.lists(_URL_PIECE, max_size=10).map("".join))
@settings(max_examples=600)
def test_normalize_link_is_markdown_its(url: str) -> None:
    from markdown_it.common.normalize_url import normalizeLink

    from nieuwsbrief.urls import normalize_link

    assert normalize_link(url) == normalizeLink(url)


def test_loading_articles_does_not_import_the_markdown_parser(project: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from nieuwsbrief.config import load_settings\n"
        "from nieuwsbrief.articles import load_articles\n"
        f"project = Path({str(project)!r})\n"
        "settings = load_settings(project / 'schedule.yaml')\n"
        "articles = load_articles(project / 'articles', settings.site)\n"
        "assert any(article.image for article in articles)\n"
        "print(sorted(name for name in sys.modules if name.startswith('markdown_it')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"


# -- reading article files -----------------------------------------------------------------


def _fstat_reporting(size: int) -> Any:
    import os

    real = os.fstat

    def fstat(descriptor: int) -> os.stat_result:
        fields = list(real(descriptor)[:10])
        fields[6] = size  # st_size
        return os.stat_result(fields)

    return fstat


@pytest.mark.parametrize("reported", [None, 0, 10, 4000])
def test_read_source_reads_what_one_read_to_the_limit_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reported: int | None
) -> None:
    import os

    from nieuwsbrief import articles
    from nieuwsbrief.errors import ArticleError

    path = tmp_path / "artikel.md"
    text = "---\ntitle: Proef\n---\n\n" + "Tekst met é en 😀.\n" * 150
    path.write_text(text, "utf-8")
    if reported is not None:  # the file grew (or shrank) after fstat looked
        monkeypatch.setattr(os, "fstat", _fstat_reporting(reported))
    assert articles.read_source(path) == text
    # Grown past the limit after fstat: refused, as the single read refused it.
    monkeypatch.setattr(articles, "MAX_ARTICLE_BYTES", 1000)
    if reported is not None and reported <= 1000:
        with pytest.raises(ArticleError, match="more than the 1,000 bytes"):
            articles.read_source(path)


# -- reading the sanitizer's output --------------------------------------------------------


def _shape(node: Any) -> Any:
    """A tree as nested tuples, adjacent text joined (html.parser may split a text run)."""
    children: list[Any] = []
    for child in node.children:
        if isinstance(child, str):
            if children and isinstance(children[-1], str):
                children[-1] += child
            else:
                children.append(child)
        else:
            children.append(_shape(child))
    return (node.tag, tuple(node.attributes.items()), tuple(children))


def _parsed(html: str) -> Any:
    builder = markup._TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


_HTML_PIECE = st.sampled_from(
    ["<p>", "</p>", "<a href='https://a.nl/?a=1&amp;b=\"2\"' title='x < y > z'>", "</a>",
     "<img src=/b.png alt='&quot;beeld&quot;'>", "<br>", "<br/>", "<b>", "</b>", "<i>",
     "<ul><li>", "</li></ul>", "<pre>\n", "</pre>", "<table><tr><td>", "</td></tr></table>",
     "tekst", " ", "&nbsp;", "\u00a0", "&amp;", "&lt;", "&gt;", "&#169;", "&copy", "a&b",
     "<h2 id='Kop Één'>", "</h2>", "<span lang=nl>", "</span>", "<!-- c -->", "<script>x",
     "</script>", "<style>p{}</style>", "<svg><text>t</text></svg>", "<div data-x=1>",
     "</div>", "<abbr title='&amp;amp;'>", "</abbr>", "<blockquote cite='/c'>", "</blockquote>",
     "\n", "é", "😀", "<", ">", "\"", "'", "<code>", "</code>", "<del>", "</del>"]
)  # fmt: skip


@given(
    html=st.one_of(
        st.lists(_HTML_PIECE, max_size=20).map("".join),
        MARKDOWN.map(markup._markdown_html),
    )
)
@settings(max_examples=500, deadline=None)
def test_reading_nh3_output_builds_the_parsers_tree(html: str) -> None:
    cleaned = markup._clean(markup.strip_xml_illegal(html), "https://a.nl/artikelen/x/")
    fast = markup._read_clean(cleaned)
    if fast is not None:
        assert _shape(fast) == _shape(_parsed(cleaned))
    with mock.patch.object(markup, "_read_clean", lambda html: None):
        plain = markup.sanitize_html(html, "https://a.nl/artikelen/x/")
    assert markup.sanitize_html(html, "https://a.nl/artikelen/x/") == plain


@pytest.mark.parametrize(
    "html",
    [
        '<p>a<b>b</b></p><p class="x" id="y">c &amp; d&nbsp;e &lt;f&gt;</p>',
        '<a href="https://a.nl/?a=1&amp;b=2" title="&quot;t&quot; &lt;&gt;">l</a>'
        '<br><img src="/i.png" alt="">',
        "<pre>\n\ncode</pre></p></div>",
    ],
)
def test_reading_plain_serialized_html_builds_the_parsers_tree(html: str) -> None:
    fast = markup._read_clean(html)
    assert fast is not None
    assert _shape(fast) == _shape(_parsed(html))


@pytest.mark.parametrize(
    "html",
    [
        "a < b",
        "<P>x</P>",
        "<br/>",
        "<!-- c -->",
        "<a href='x'>",
        "<a href=x>",
        "<script>1<2</script>",
        "</a b>",
    ],
)
def test_other_html_is_left_to_the_parser(html: str) -> None:
    assert markup._read_clean(html) is None
