"""URLs from front matter and settings: encoded like body links, valid for every feed format."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, RunCli, copy_example_project, set_setting, write_article
from nieuwsbrief.markup import render_markdown
from nieuwsbrief.urls import absolute_url, encode_url

BASE = "https://www.praktijkdelinde.nl/artikelen/a/"
HTTP = frozenset({"http", "https"})
is_uri = jsonschema.Draft202012Validator.FORMAT_CHECKER


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("/images/mijn foto.jpg", "https://www.praktijkdelinde.nl/images/mijn%20foto.jpg"),
        ("/images/café.jpg", "https://www.praktijkdelinde.nl/images/caf%C3%A9.jpg"),
        # Already encoded: kept, never %2520.
        ("/images/mijn%20foto.jpg", "https://www.praktijkdelinde.nl/images/mijn%20foto.jpg"),
        ("/images/100%.jpg", "https://www.praktijkdelinde.nl/images/100%25.jpg"),
        (
            "/images/a.jpg?w=600&naam=één",
            "https://www.praktijkdelinde.nl/images/a.jpg?w=600&naam=%C3%A9%C3%A9n",
        ),
        ("/images/a.jpg#deel 2", "https://www.praktijkdelinde.nl/images/a.jpg#deel%202"),
        ("beeld.jpg", "https://www.praktijkdelinde.nl/artikelen/a/beeld.jpg"),
        ("https://bücher.example/ä.png", "https://xn--bcher-kva.example/%C3%A4.png"),
        ("  https://example.org/x.png  ", "https://example.org/x.png"),
    ],
)
def test_typed_urls_become_valid_uris(typed: str, expected: str) -> None:
    result = absolute_url(typed, BASE, HTTP)
    assert result == expected
    assert is_uri.conforms(result, "uri")


@pytest.mark.parametrize("typed", ["/images/mijn foto.jpg", "/images/café.jpg", "x%20y.png"])
def test_front_matter_urls_match_body_links(typed: str) -> None:
    body = render_markdown(f"![x]({typed.replace(' ', '%20')})", BASE)
    assert f'src="{absolute_url(typed, BASE, HTTP)}"' in body


@pytest.mark.parametrize(
    "typed", ["javascript:alert(1)", "data:image/png;base64,AAAA", "mailto:a@b.nl", "https://"]
)
def test_unsafe_or_hostless_urls_are_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        absolute_url(typed, BASE, HTTP)


@given(st.text(max_size=80))
@settings(max_examples=200, deadline=None)
def test_encoding_is_idempotent_and_gives_uri_characters(text: str) -> None:
    try:
        once = encode_url(text)
    except ValueError:
        return
    assert encode_url(once) == once
    assert once.isascii() and not any(c.isspace() for c in once)


def test_image_with_spaces_through_the_cli(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    write_article(
        project, "2025-11-20-foto.md", title="Foto", image="/images/mijn foto.jpg", image_alt="x"
    )
    out = tmp_path / "out"
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 0, result.output
    items = json.loads((out / "feed.json").read_bytes())["items"]
    image = next(item["image"] for item in items if item["url"].endswith("/foto/"))
    assert image == "https://www.praktijkdelinde.nl/images/mijn%20foto.jpg"
    assert (
        b'url="https://www.praktijkdelinde.nl/images/mijn%20foto.jpg"'
        in (out / "feed.xml").read_bytes()
    )


# --- Hostile input: front matter image/id and the new settings ----------------------------

text = st.text(st.characters(codec="utf-8"), max_size=70)


@given(image=text, article_id=text)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_any_image_or_id_gives_inert_output_or_one_clear_line(
    project: Path,
    tmp_path_factory: pytest.TempPathFactory,
    run_cli: RunCli,
    image: str,
    article_id: str,
) -> None:
    write_article(project, "2025-11-20-x.md", title="X", image=image, id=article_id)
    out = tmp_path_factory.mktemp("out")
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 2, result.output  # the heading and the one problem
        assert "2025-11-20-x.md: field 'i" in lines[1]
        assert "Traceback" not in result.output
        return
    items = json.loads((out / "feed.json").read_bytes())["items"]
    item = next(item for item in items if item["url"].endswith("/x/"))
    if "image" in item:
        assert is_uri.conforms(item["image"], "uri"), item["image"]
        assert item["image"].startswith(("https://", "http://"))


@given(key=st.sampled_from(["logo", "icon", "copyright", "tag_date", "websub_hub"]), value=text)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_any_branding_setting_gives_valid_feeds_or_one_clear_line(
    tmp_path_factory: pytest.TempPathFactory, run_cli: RunCli, key: str, value: str
) -> None:
    project = copy_example_project(tmp_path_factory.mktemp("project"))
    section = "feeds" if key == "websub_hub" else "site"
    set_setting(project, section, key, value)
    out = tmp_path_factory.mktemp("out")
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        assert f"field '{section}.{key}'" in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
        return
    document = json.loads((out / "feed.json").read_bytes())
    for field in ("icon", "favicon"):
        if field in document:
            assert is_uri.conforms(document[field], "uri")
    import feedparser

    for name in ("feed.xml", "atom.xml"):
        assert not feedparser.parse((out / name).read_bytes()).bozo
