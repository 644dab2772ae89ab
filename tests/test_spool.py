"""What a build keeps in a temporary file (article bodies, shared feed items) reads back as it was.

The spool replaced holding those bytes in memory: each test compares with the bytes as
they were, with the spool working, failing to be made, and failing to be read.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import NOW, assert_same_paged_builds, copy_example_project
from nieuwsbrief import feeds, spool
from nieuwsbrief.spool import Spooled, SpooledText, spool_bytes, spool_pieces
from test_feed_items import (
    RICH,
    SETTINGS,
    assert_pages_equal,
    make_article,
    newest_first,
    small_pages,
    variants,
)


@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_spooled_text_reads_back_as_it_was(text: str) -> None:
    # Any text, lone surrogates included (an article read with surrogate escapes).
    kept = SpooledText(text)
    assert kept.text == text
    assert kept == SpooledText(text)
    assert hash(kept) == hash(text)
    assert (kept == SpooledText(text + "x")) is False


@given(pieces=st.lists(st.binary(max_size=300), max_size=8))
def test_pieces_read_back_one_by_one(pieces: list[bytes]) -> None:
    places = spool_pieces([memoryview(piece) for piece in pieces])
    assert places is not None
    assert [place.read() for place in places] == pieces


def test_a_full_spool_makes_way_for_a_new_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spool, "SPOOL_LIMIT", 10)
    first = spool_bytes(b"12345678")
    second = spool_bytes(b"abcdefgh")
    assert first is not None and second is not None
    assert first.spool is not second.spool
    assert (first.read(), second.read()) == (b"12345678", b"abcdefgh")


def test_a_spool_is_closed_when_nothing_refers_to_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spool, "_CURRENT", [])
    place = spool_bytes(b"weg")
    assert place is not None
    descriptor = place.spool._descriptor
    os.fstat(descriptor)
    spool._CURRENT.clear()
    del place
    gc.collect()
    with pytest.raises(OSError):
        os.fstat(descriptor)


def test_a_forked_process_starts_its_own_spool(monkeypatch: pytest.MonkeyPatch) -> None:
    first = spool_bytes(b"ouder")
    assert first is not None
    monkeypatch.setattr(os, "getpid", lambda: first.spool.pid + 1)
    second = spool_bytes(b"kind")
    assert second is not None and second.spool is not first.spool
    assert first.read() == b"ouder"


def refuse_spool(*_: object) -> None:
    raise OSError("no room")


def test_without_a_spool_the_text_stays_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spool, "_CURRENT", [])
    monkeypatch.setattr(spool.Spool, "__init__", refuse_spool)
    kept = SpooledText("Tekst met ü en 🌙.")
    assert kept.text == "Tekst met ü en 🌙."
    assert kept._place is None


def test_a_failed_write_gives_up_that_spool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spool, "_CURRENT", [])
    assert spool_bytes(b"eerst") is not None
    monkeypatch.setattr(spool.Spool, "append", refuse_spool)
    assert spool_bytes(b"dan") is None
    assert spool._CURRENT == []


def test_articles_keep_their_bodies_in_the_spool() -> None:
    article = make_article(1, body="Lig je *wakker*?\n\nSchrijf het op.")
    assert isinstance(article.stored_body._place, Spooled)
    assert article.body.strip() == "Lig je *wakker*?\n\nSchrijf het op."
    assert "wakker" in article.content_html
    assert article == make_article(1, body="Lig je *wakker*?\n\nSchrijf het op.")
    assert article != make_article(1, body="Iets anders.")


def test_shared_items_are_spooled_and_read_back_as_rendered() -> None:
    articles = newest_first(RICH)
    feeds.forget_items(articles)  # built by other tests, maybe without a spool
    for one in variants(small_pages(SETTINGS)):
        assert_pages_equal(one, articles)
    stored = [value for article in articles for value in feeds._memo(article).values()]
    assert any(isinstance(value, Spooled) for value in stored)


def test_feeds_without_a_spool_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spool, "_CURRENT", [])
    monkeypatch.setattr(spool.Spool, "__init__", refuse_spool)
    articles = newest_first(RICH)
    feeds.forget_items(articles)  # built by other tests, maybe without a spool
    for one in variants(small_pages(SETTINGS)):
        assert_pages_equal(one, articles)
    stored = [value for article in articles for value in feeds._memo(article).values()]
    assert not any(isinstance(value, Spooled) for value in stored)
    assert any(isinstance(value, memoryview) for value in stored)


def test_an_item_that_cannot_be_read_back_is_built_again(monkeypatch: pytest.MonkeyPatch) -> None:
    articles = newest_first(RICH)
    feeds.forget_items(articles)
    page_settings = small_pages(SETTINGS)
    assert_pages_equal(page_settings, articles)
    # Teasers and HTML were made from the bodies above: from here only items are read back.
    monkeypatch.setattr(Spooled, "read", refuse_spool)
    assert_pages_equal(page_settings, articles)


def test_a_build_with_the_spool_equals_one_without(tmp_path: Path) -> None:
    """The whole build: every output and the report, with bodies and items in memory."""

    def in_memory(patch: pytest.MonkeyPatch) -> None:
        patch.setattr(spool, "_CURRENT", [])
        patch.setattr(spool.Spool, "__init__", refuse_spool)

    assert_same_paged_builds(tmp_path, in_memory)


def test_threads_writing_at_once_each_read_back_their_own() -> None:
    # The preview checks articles in a thread while a build loads them.
    import threading

    found: dict[int, list[SpooledText]] = {}

    def write(number: int) -> None:
        found[number] = [SpooledText(f"draad {number} tekst {index} " * 20) for index in range(200)]

    threads = [threading.Thread(target=write, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for number, texts in found.items():
        assert [text.text for text in texts] == [
            f"draad {number} tekst {index} " * 20 for index in range(200)
        ]


def test_a_body_that_cannot_be_read_back_is_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spool is this process's own file, but a failing disk must still end in one line."""
    from click.testing import CliRunner

    from nieuwsbrief.cli import cli

    project = copy_example_project(tmp_path / "project")
    monkeypatch.setattr(spool.Spool, "read", refuse_spool)
    result = CliRunner().invoke(
        cli, ["build", "-p", str(project), "-o", str(tmp_path / "out"), "--now", NOW]
    )
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: a text kept in a temporary file cannot be read back")
    assert "TMPDIR" in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
