"""Teasers: the first block of text, whatever it is, never empty in a feed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nieuwsbrief.markup import _first_block_text, first_paragraph_text


@pytest.mark.parametrize(
    "source, expected",
    [
        ("Eerste alinea.\n\nTweede.", "Eerste alinea."),
        ("- een\n- twee\n\nDaarna.", "een; twee"),
        ("1. een\n2. twee", "een; twee"),
        (
            "> Ik dacht dat ik de enige was.\n> Nu niet meer.",
            "Ik dacht dat ik de enige was. Nu niet meer.",
        ),
        ("# Kop\n\n```\ncode\n```\n\nNa de code.", "Na de code."),
        ("<div>ruw</div>\n\nNa het blok.", "Na het blok."),
        ("![Een bank in het park](bank.jpg)", "Een bank in het park"),
        ("## Alleen een kop", ""),
        ("Zie [de site][s].\n\n" + "Vulling.\n\n" * 400 + "[s]: https://a.nl", "Zie de site."),
    ],
)
def test_first_block_text(source: str, expected: str) -> None:
    assert first_paragraph_text(source) == expected


blocks = st.sampled_from(
    [
        "Een gewone alinea met *nadruk* en `code`.",
        "- een\n- twee",
        "> citaat\n> verder",
        "```\ncode\n\nmet witregel\n```",
        "<pre>\nruw\n\nblok\n</pre>",
        "## Kop",
        "| a | b |\n|---|---|\n| 1 | 2 |",
        "woord " * 300,
        "",
    ]
)


@given(st.lists(blocks, max_size=12))
@settings(max_examples=150, deadline=None)
def test_reading_only_the_opening_gives_the_same_teaser(parts: list[str]) -> None:
    source = "\n\n".join(parts)
    assert first_paragraph_text(source) == _first_block_text(source)[0]
