"""Direction controls in one-line texts are refused, naming file and field (finding 9).

U+202A-U+202E (embeddings and overrides) and U+2066-U+2069 (isolates) make a title, tag,
sender or subject read otherwise than written. ZWJ and ZWNJ are kept: emoji sequences and
scripts such as Persian need them. Bodies keep direction controls (docs/content-rules.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO
from nieuwsbrief.articles import parse_article
from nieuwsbrief.config import load_settings
from nieuwsbrief.errors import ArticleError, InputError

SETTINGS = load_settings(REPO / "schedule.yaml")
BIDI = st.sampled_from([chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]])
WORDS = st.text(st.sampled_from("abc xyz"), max_size=8)
FIELDS = ["title", "summary", "author", "image_alt", "tags"]


def _article(key: str, value: str, body: str = "Tekst.") -> str:
    front: dict[str, object] = {"title": "Titel", "date": "2025-11-20"}
    front[key] = [value] if key == "tags" else value
    if key == "image_alt":
        front["image"] = "/beeld.png"
    # JSON quoting keeps every character exact through YAML.
    lines = [f"{name}: {json.dumps(item, ensure_ascii=False)}" for name, item in front.items()]
    return "---\n" + "\n".join(lines) + "\n---\n" + body + "\n"


@settings(max_examples=80, deadline=None)
@given(key=st.sampled_from(FIELDS), before=WORDS, control=BIDI, after=WORDS)
def test_a_direction_control_in_a_one_line_field_is_refused(
    key: str, before: str, control: str, after: str
) -> None:
    text = _article(key, before + control + after)
    with pytest.raises(ArticleError) as caught:
        parse_article(Path("2025-11-20-richting.md"), text, SETTINGS.site)
    message = str(caught.value)
    assert f"field '{key}'" in message and "2025-11-20-richting.md" in message
    assert f"U+{ord(control):04X}" in message and "remove it" in message
    assert control not in message and "\n" not in message


@pytest.mark.parametrize("joiner", ["\u200d", "\u200c"])
@pytest.mark.parametrize("key", FIELDS)
def test_zero_width_joiners_stay(key: str, joiner: str) -> None:
    value = f"Gezin \U0001f468{joiner}\U0001f469 mi{joiner}khaham"
    article = parse_article(Path("2025-11-20-gezin.md"), _article(key, value), SETTINGS.site)
    shown = {
        "title": article.title,
        "summary": article.explicit_summary,
        "author": article.author,
        "image_alt": article.image_alt,
        "tags": article.tags[0] if article.tags else None,
    }[key]
    assert shown == value


def test_a_body_keeps_its_direction_controls() -> None:
    body = "Een citaat: \u202bשלום\u202c en \u2067مرحبا\u2069."
    article = parse_article(
        Path("2025-11-20-citaat.md"), _article("summary", "s", body), SETTINGS.site
    )
    assert "\u202b" in article.content_html and "\u2067" in article.content_html


SETTING_KEYS = [
    ("site", "title"),
    ("digest", "subject"),
    ("digest", "from", "name"),
    ("site", "author", "name"),
    ("site", "contact", "booking_text"),
]


@settings(max_examples=40, deadline=None)
@given(key=st.sampled_from(SETTING_KEYS), control=BIDI, before=WORDS)
def test_a_direction_control_in_a_one_line_setting_is_refused(
    key: tuple[str, ...], control: str, before: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data = yaml.safe_load((REPO / "schedule.yaml").read_text("utf-8"))
    node = data
    for part in key[:-1]:
        node = node[part]
    node[key[-1]] = before + "Praktijk" + control + " Zon"
    path = tmp_path_factory.mktemp("bidi") / "schedule.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(InputError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert ".".join(key) in message and f"U+{ord(control):04X}" in message
    assert control not in message
