"""Hostile article content comes out inert in every output: feeds, email HTML, text and .eml."""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Iterator

import pytest
from lxml import etree
from lxml import html as lxml_html

from conftest import NOW, write_article

WEEK = "2025-W48"
BODY_PAYLOADS = {
    "script": "<script>alert('script')</script>",
    "onerror": "<img src=x onerror=alert('onerror')>",
    "markdown-javascript": "[klik](javascript:alert('md'))",
    "mixed-case-javascript": "<a href=\"JaVaScRiPt:alert('case')\">case</a>",
    "entity-javascript": "<a href=\"&#106;avascript:alert('entity')\">entity</a>",
    "space-javascript": "<a href=\"  javascript:alert('space')\">space</a>",
    "iframe": '<iframe src="https://kwaad.example/"></iframe>',
    "css-expression": "<p style=\"width: expression(alert('css'))\">css</p>",
    "style-element": "<style>body { background: url(javascript:alert('style')) }</style>",
    "svg-onload": "<svg onload=alert('svg')><circle r=1 /></svg>",
    "data-url": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    "object": '<object data="https://kwaad.example/x.swf"></object>',
    "form": '<form action="https://kwaad.example/"><input name=x></form>',
    "jinja": "{{ 7*7 }} en {% raw %}rauw{% endraw %} en {{ config }}",
}
TITLE = "<script>alert('titel')</script> {{ 7*7 }} & co"
SUMMARY = "<img src=x onerror=alert('summary')> {{ 7*7 }}"
TAGS = ["<b onmouseover=alert('tag')>vet</b>", "{{ 7*7 }}"]
AUTHOR = "<script>alert('auteur')</script> {{ 7*7 }}"
# Tries to break out of the alt="..." attribute of the email's <img>.
IMAGE_ALT = '" onerror="alert(\'alt\')" x="{{ 7*7 }}'
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Build a project with one hostile article; return each output format's text."""
    from click.testing import CliRunner

    from conftest import copy_example_project
    from nieuwsbrief.cli import cli

    root = tmp_path_factory.mktemp("hostile")
    project = copy_example_project(root / "project")
    body = "Gewone tekst.\n\n" + "\n\n".join(
        f"{name}: {payload}" for name, payload in BODY_PAYLOADS.items()
    )
    write_article(
        project,
        "2025-11-20-kwaad.md",
        body,
        title=TITLE,
        date="2025-11-20",
        summary=SUMMARY,
        tags=TAGS,
        author=AUTHOR,
        image="/images/kwaad.jpg",
        image_alt=IMAGE_ALT,
    )
    out = root / "out"
    result = CliRunner().invoke(cli, ["build", "-p", str(project), "-o", str(out), "--now", NOW])
    assert result.exit_code == 0, result.output
    digest = out / "digests" / WEEK
    message = email.message_from_bytes(
        (digest / "digest.eml").read_bytes(), policy=email.policy.default
    )
    parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}  # type: ignore[attr-defined]
    return {
        "rss": (out / "feed.xml").read_text("utf-8"),
        "atom": (out / "atom.xml").read_text("utf-8"),
        "json": (out / "feed.json").read_text("utf-8"),
        "email-html": (digest / "digest.html").read_text("utf-8"),
        "email-text": (digest / "digest.txt").read_text("utf-8"),
        "eml-html": parts["text/html"],
        "eml-text": parts["text/plain"],
        "eml-subject": str(message["Subject"]),
    }


def html_fragments(name: str, text: str) -> Iterator[str]:
    """Yield every piece of HTML a reader of this output would render."""
    if name == "rss":
        root = etree.fromstring(text.encode("utf-8"))
        for item in root.iter("item"):
            yield item.findtext("description") or ""
            yield item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or ""
    elif name == "atom":
        root = etree.fromstring(text.encode("utf-8"))
        for entry in root.iter("{http://www.w3.org/2005/Atom}entry"):
            for tag in ("content", "summary"):
                element = entry.find(f"{{http://www.w3.org/2005/Atom}}{tag}")
                if element is not None and element.get("type") == "html":
                    yield element.text or ""
    elif name == "json":
        for item in json.loads(text)["items"]:
            yield item["content_html"]
    elif name in ("email-html", "eml-html"):
        yield text


@pytest.mark.parametrize("name", ["rss", "atom", "json", "email-html", "eml-html"])
def test_html_outputs_are_inert(name: str, outputs: dict[str, str]) -> None:
    fragments = [fragment for fragment in html_fragments(name, outputs[name]) if fragment.strip()]
    assert fragments
    for fragment in fragments:
        tree = lxml_html.fromstring(f"<div>{fragment}</div>")
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            assert element.tag not in ("script", "iframe", "object", "embed", "form", "svg"), (
                element.tag
            )
            if element.tag == "style":
                # MJML's own <style> in the email head; never article CSS.
                assert "expression(" not in (element.text or "")
                assert "javascript:" not in (element.text or "")
            for attribute, value in element.attrib.items():
                assert not attribute.lower().startswith("on"), (element.tag, attribute)
                if attribute in ("href", "src", "action", "data", "formaction"):
                    assert not value.strip().lower().startswith(BAD_SCHEMES), (attribute, value)
                if attribute == "style":
                    assert "expression(" not in value and "javascript:" not in value
    if name in ("rss", "atom", "json"):
        # The plain-text parts of each payload survive as text, never as markup.
        joined = "\n".join(fragments)
        assert "{{ 7*7 }}" in joined and "{% raw %}rauw{% endraw %}" in joined


@pytest.mark.parametrize(
    "name", ["email-html", "email-text", "eml-html", "eml-text", "rss", "atom", "json"]
)
def test_jinja_looking_text_is_never_evaluated(name: str, outputs: dict[str, str]) -> None:
    text = outputs[name]
    assert "{{ 7*7 }}" in text
    assert "49" not in text.replace("2025-W48", "")  # ISO week strings aside, 49 never appears


def test_titles_stay_text(outputs: dict[str, str]) -> None:
    import feedparser

    for name in ("rss", "atom"):
        titles = [entry.title for entry in feedparser.parse(outputs[name]).entries]
        assert TITLE in titles
    assert TITLE in [item["title"] for item in json.loads(outputs["json"])["items"]]
    assert TITLE in outputs["email-text"]
    assert "<script" not in outputs["eml-subject"]
    escaped = "&lt;script&gt;alert(&#39;titel&#39;)&lt;/script&gt; {{ 7*7 }} &amp; co"
    # css-inline's serializer leaves ' as it is in text, where it is inert; < > & are escaped.
    assert escaped.replace("&#39;", "'") in outputs["email-html"]


def test_tags_stay_text(outputs: dict[str, str]) -> None:
    items = json.loads(outputs["json"])["items"]
    tags = next(item["tags"] for item in items if item["title"] == TITLE)
    assert tags == TAGS
    root = etree.fromstring(outputs["rss"].encode("utf-8"))
    categories = [c.text for c in root.iter("category")]
    assert TAGS[0] in categories  # as text, escaped by the XML writer


@pytest.mark.parametrize("name", ["email-text", "eml-text"])
def test_text_parts_carry_no_dangerous_links(name: str, outputs: dict[str, str]) -> None:
    lowered = outputs[name].lower()
    for scheme in BAD_SCHEMES:
        assert scheme not in lowered, scheme
    assert TITLE in outputs[name]  # text parts show the title as the plain text it is


@pytest.mark.parametrize("name", ["email-html", "eml-html"])
def test_alt_text_stays_inside_its_attribute(name: str, outputs: dict[str, str]) -> None:
    tree = lxml_html.fromstring(outputs[name])
    alts = [img.get("alt") for img in tree.iter("img")]
    assert IMAGE_ALT in alts
    assert all(not key.startswith("on") for img in tree.iter("img") for key in img.attrib)


def test_author_stays_text(outputs: dict[str, str]) -> None:
    item = next(i for i in json.loads(outputs["json"])["items"] if i["title"] == TITLE)
    assert [author["name"] for author in item["authors"]] == [AUTHOR]
    root = etree.fromstring(outputs["atom"].encode("utf-8"))
    names = [n.text for n in root.iter("{http://www.w3.org/2005/Atom}name")]
    assert AUTHOR in names
