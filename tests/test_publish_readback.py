"""What a build reads back from --out (old manifests, its own record) is untrusted input.

Hostile or broken files there give exit 0 with inert output (the bad manifest left out, with a
warning naming it) or exit 1 with one line naming the file and the fix; never a traceback,
and never a change to a file nieuwsbrief did not write. `send` refuses a stale digest.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, RunCli, copy_example_project, tree_bytes, write_article
from nieuwsbrief.output import (
    JOURNAL_FILE,
    JOURNAL_FORMAT,
    MAX_RECORD_BYTES,
    RECORD_FILE,
    RECORD_FORMAT,
    STAGING_DIR,
)

W40 = "2025-W40"
OUTSIDE = "buiten --out: niet aanraken\n"


class Links(HTMLParser):
    """Collect every href of a page, as a browser would read them."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [value or "" for name, value in attrs if name == "href"]


def archive_links(out: Path) -> list[str]:
    parser = Links()
    parser.feed((out / "digests" / "index.html").read_text(encoding="utf-8"))
    return parser.hrefs


def good_manifest() -> dict[str, Any]:
    return {
        "week": W40,
        "subject": "Nieuws van week 40",
        "send_at": "2025-09-29T08:00:00+02:00",
        "articles": [{"slug": "oud-artikel", "title": "Oud artikel"}],
        "overflow": [],
    }


def legacy_out(root: Path, manifest: bytes) -> Path:
    """Return an --out as the previous version left it (no record) with this W40 manifest."""
    out = root / "public"
    (out / "digests" / W40).mkdir(parents=True)
    (out / "digests" / W40 / "manifest.json").write_bytes(manifest)
    return out


@pytest.fixture(scope="module")
def shared_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_example_project(tmp_path_factory.mktemp("readback") / "project")
    write_article(project, "oud-artikel.md", title="Oud artikel", date="2025-09-24")
    return project


def assert_one_line_or_inert(result: Any, out: Path) -> None:
    output = str(result.output)
    assert "Traceback" not in output
    assert result.exit_code in (0, 1), output
    if result.exit_code == 1:
        errors = [line for line in output.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and output.strip() == errors[0], output
        return
    for href in archive_links(out):
        assert re.fullmatch(r"(\d{4}-W\d{2}/digest\.html|https?://\S+)", href), href


def test_a_javascript_week_and_a_dutch_send_at_are_dropped_with_a_warning(
    shared_project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    bad_week = good_manifest() | {"week": "javascript:alert(1)"}
    out = legacy_out(tmp_path, json.dumps(bad_week).encode())
    (out / "digests" / "2025-W41").mkdir()
    bad_date = good_manifest() | {"week": "2025-W41", "send_at": "maandag"}
    (out / "digests" / "2025-W41" / "manifest.json").write_text(json.dumps(bad_date))
    for _ in range(2):  # the second build reads back what the first left
        result = run_cli("build", "-p", shared_project, "-o", out, "--now", NOW)
        assert result.exit_code == 0, result.output
        assert f"digests/{W40}/manifest.json: left out of the digest archive" in result.output
        assert "field 'week'" in result.output
        assert "digests/2025-W41/manifest.json: left out" in result.output
        assert "field 'send_at' is not an ISO 8601 date-time" in result.output
        assert "javascript" not in (out / "digests" / "index.html").read_text(encoding="utf-8")
        assert_one_line_or_inert(result, out)


def test_a_valid_old_manifest_stays_in_the_archive(
    shared_project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = legacy_out(tmp_path, json.dumps(good_manifest()).encode())
    result = run_cli("build", "-p", shared_project, "-o", out, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert f"{W40}/digest.html" in archive_links(out)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
HOSTILE_TEXT = st.sampled_from(
    ["javascript:alert(1)", "2025-W40", "2025-W99", "maandag", "\x1b]0;x\x07", "a" * 3000, ""]
) | st.text(max_size=40)


@st.composite
def manifests(draw: st.DrawFn) -> bytes:
    """Arbitrary JSON, or a manifest with arbitrary values, or bytes that are not JSON."""
    kind = draw(st.sampled_from(["json", "shaped", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "json":
        return json.dumps(draw(JSON)).encode()
    manifest = good_manifest()
    for key in draw(st.lists(st.sampled_from(sorted(manifest)), max_size=3, unique=True)):
        manifest[key] = draw(HOSTILE_TEXT | JSON)
    if draw(st.booleans()):
        manifest["articles"] = [
            {"slug": draw(HOSTILE_TEXT), "title": draw(HOSTILE_TEXT | JSON)}
        ]
    return json.dumps(manifest).encode()


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=manifests())
def test_any_old_manifest_gives_inert_output_or_one_line(
    data: bytes, shared_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from click.testing import CliRunner

    from nieuwsbrief.cli import cli

    root = tmp_path_factory.mktemp("manifest")
    out = legacy_out(root, data)
    result = CliRunner().invoke(
        cli,
        ["build", "-p", str(shared_project), "-o", str(out), "--now", NOW, "--no-cache"],
        catch_exceptions=False,
    )
    assert_one_line_or_inert(result, out)
    manifest = out / "digests" / W40 / "manifest.json"
    if manifest.exists():
        assert manifest.read_bytes() == data
    else:
        # A valid old manifest whose articles are not published (any more) is a retraction.
        assert f"digest {W40} removed" in result.output
        assert result.exit_code == 0
    shutil.rmtree(root)


OWN_LIST = "<ul><li>van de webbouwer</li></ul>\n"


def site_with_record(
    root: Path, record: bytes, *, at_output_names: bool = False
) -> tuple[Path, dict[str, bytes], Path]:
    """Return a website folder with a forged record, its foreign files, and a file outside.

    ``at_output_names`` adds foreign files where a build writes its own (a site's own
    feed.xml, a topic list it made itself): only the record can say they are not ours.
    """
    site = root / "site"
    (site / "digests").mkdir(parents=True)
    (site / "index.html").write_text("<h1>Eigen site</h1>\n", encoding="utf-8")
    (site / "digests" / "eigen.txt").write_text("van de webbouwer\n", encoding="utf-8")
    if at_output_names:
        (site / "feed.xml").write_text("<rss>van de webbouwer</rss>\n", encoding="utf-8")
        (site / "tags" / "mine").mkdir(parents=True)
        (site / "tags" / "mine" / "list.html").write_text(OWN_LIST, encoding="utf-8")
    outside = root / "outside.txt"
    outside.write_text(OUTSIDE, encoding="utf-8")
    (site / RECORD_FILE).write_bytes(record)
    return site, tree_bytes(site), outside


def hash_of(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


PATHS = st.sampled_from(
    [
        "index.html",
        "digests/eigen.txt",
        "../outside.txt",
        "/etc/passwd",
        "digests/../index.html",
        "./feed.xml",
        "feed.xml",
        "digests/2025-W40/digest.html",
        "tags/mine/list.html",
        "",
        "a\x1b[2Jb",
        RECORD_FILE,
    ]
) | st.text(max_size=20)


@st.composite
def records(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["json", "shaped", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "json":
        return json.dumps(draw(JSON)).encode()
    files = draw(
        st.dictionaries(
            PATHS,
            st.sampled_from([hash_of("<h1>Eigen site</h1>\n"), hash_of(OUTSIDE), "0" * 64])
            | st.text(max_size=70),
            max_size=4,
        )
    )
    fmt = draw(st.sampled_from([RECORD_FORMAT, RECORD_FORMAT, "nieuwsbrief-written/9"]))
    return json.dumps({"format": fmt, "files": files}).encode()


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=records())
def test_any_record_changes_no_foreign_file(
    data: bytes, shared_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from click.testing import CliRunner

    from nieuwsbrief.cli import cli

    root = tmp_path_factory.mktemp("record")
    site, foreign, outside = site_with_record(root, data)
    result = CliRunner().invoke(
        cli,
        ["build", "-p", str(shared_project), "-o", str(site), "--now", NOW, "--no-cache"],
        catch_exceptions=False,
    )
    assert_one_line_or_inert(result, site)
    after = tree_bytes(site)
    assert after["index.html"] == foreign["index.html"]
    assert after["digests/eigen.txt"] == foreign["digests/eigen.txt"]
    assert outside.read_text(encoding="utf-8") == OUTSIDE
    if result.exit_code == 1:
        assert after == foreign
        assert RECORD_FILE in result.output and "\x1b" not in result.output
    shutil.rmtree(root)


def test_a_broken_record_names_the_file_and_the_fix(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    site, before, _ = site_with_record(tmp_path, b'{"format": "nieuwsbrief-written/1", "files": [')
    result = run_cli("build", "-p", project, "-o", site, "--now", NOW)
    assert result.exit_code == 1
    assert f"{site / RECORD_FILE}: the record is not valid JSON" in result.output
    assert "restore it from a backup, or delete it" in result.output
    assert tree_bytes(site) == before


@pytest.mark.parametrize("what", ["record", "journal"])
def test_a_name_no_file_system_takes_is_refused_in_record_and_journal(
    what: str, project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    """A path part over 255 bytes could never be written: refused on reading, not on renaming.

    A journal naming one stopped every later build with "File name too long ... check that
    the folder is writable", with no word of deleting the plan.
    """
    long_name = "related/" + "a" * 300 + ".html"
    files = {long_name: hash_of(EVIL.decode())}
    site, before, _ = site_with_record(
        tmp_path, json.dumps({"format": "nieuwsbrief-written/1", "files": files}).encode()
    )
    if what == "journal":
        (site / RECORD_FILE).unlink()
        (site / STAGING_DIR).mkdir()
        (site / STAGING_DIR / "0").write_bytes(EVIL)
        journal = {"format": JOURNAL_FORMAT, "files": files, "moves": [["0", long_name]]}
        (site / JOURNAL_FILE).write_text(json.dumps({**journal, "remove": []}), "utf-8")
        before = tree_bytes(site)
    result = run_cli("build", "-p", project, "-o", site, "--now", NOW)
    assert result.exit_code == 1
    line = result.output.strip()
    assert "\n" not in line and "longer than 255 bytes" in line, line
    named = RECORD_FILE if what == "record" else JOURNAL_FILE
    assert named in line and "delete it" in line, line  # names the file and the way out
    assert tree_bytes(site) == before


def test_a_record_that_escapes_through_a_symlink_is_refused(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "public"
    assert run_cli("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    # Someone replaces digests/ by a link to a folder outside --out, with a copy of its files.
    elsewhere = tmp_path / "elders"
    shutil.copytree(out / "digests", elsewhere)
    shutil.rmtree(out / "digests")
    (out / "digests").symlink_to(elsewhere, target_is_directory=True)
    before = tree_bytes(elsewhere)
    result = run_cli("build", "-p", project, "-o", out, "--now", "2025-12-09T09:00:00+01:00")
    assert result.exit_code == 1
    assert "is a symbolic link" in result.output
    assert tree_bytes(elsewhere) == before


def test_send_refuses_a_stale_digest(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "public"
    assert run_cli("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    manifest = json.loads((out / "digests/2025-W48/manifest.json").read_text(encoding="utf-8"))
    slug = manifest["articles"][0]["slug"]
    (article,) = [
        path for path in (project / "articles").glob("*.md") if path.stem.endswith(slug)
    ]
    text = article.read_text(encoding="utf-8")
    title = manifest["articles"][0]["title"]
    article.write_text(text.replace(title, title + " (herzien)", 1), encoding="utf-8")
    # No SMTP server is listening: the refusal comes before any connection.
    result = run_cli("send", "--to", "redactie@example.nl", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 1
    assert "stale digest: articles" in result.output
    assert "run 'nieuwsbrief build'" in result.output
    # Retracting every article of the week is stale too.
    for path in (project / "articles").glob("*.md"):
        path.write_text(
            path.read_text(encoding="utf-8").replace("---\n", "---\ndraft: true\n", 1)
            if "draft:" not in path.read_text(encoding="utf-8")
            else re.sub(r"(?m)^draft:.*$", "draft: true", path.read_text(encoding="utf-8")),
            encoding="utf-8",
        )
    result = run_cli("send", "--to", "redactie@example.nl", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 1
    assert "none of its articles is published any more" in result.output


def test_send_refuses_a_hand_edited_eml(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "public"
    assert run_cli("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    eml = out / "digests/2025-W48/digest.eml"
    eml.write_bytes(eml.read_bytes().replace(b"Subject: ", b"Subject: [aangepast] ", 1))
    result = run_cli("send", "--to", "redactie@example.nl", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 1
    assert "digest.eml was changed after the build" in result.output


EVIL = b"<script>kwaadaardig</script>\n"


@st.composite
def journals(draw: st.DrawFn) -> bytes:
    """Arbitrary JSON, or a journal that points its renames and removals at foreign files."""
    kind = draw(st.sampled_from(["json", "shaped", "shaped", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "json":
        return json.dumps(draw(JSON)).encode()
    targets = draw(st.lists(PATHS, min_size=1, max_size=3))
    digests = st.sampled_from(
        [
            hash_of("<h1>Eigen site</h1>\n"),
            hash_of("van de webbouwer\n"),
            hash_of(OWN_LIST),
            hash_of(EVIL.decode()),
        ]
    )
    journal = {
        "format": draw(st.sampled_from([JOURNAL_FORMAT, JOURNAL_FORMAT, "x"])),
        "files": {name: draw(digests) for name in targets},
        "moves": [["000000", name] for name in targets[:1]],
        "remove": [[name, draw(digests)] for name in targets],
    }
    return json.dumps(journal).encode()


def plant_journal(site: Path, remove: list[list[str]]) -> None:
    """Leave a journal in ``site`` that moves staged bytes (EVIL) over feed.xml."""
    (site / STAGING_DIR).mkdir()
    (site / STAGING_DIR / "0").write_bytes(EVIL)
    journal = {
        "format": JOURNAL_FORMAT,
        "files": {"feed.xml": hash_of(EVIL.decode())},
        "moves": [["0", "feed.xml"]],
        "remove": remove,
    }
    (site / JOURNAL_FILE).write_text(json.dumps(journal), encoding="utf-8")


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=journals())
def test_a_forged_journal_changes_no_foreign_file(
    data: bytes, shared_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from click.testing import CliRunner

    from nieuwsbrief.cli import cli

    root = tmp_path_factory.mktemp("journal")
    site, foreign, outside = site_with_record(root, b"", at_output_names=True)
    (site / RECORD_FILE).unlink()
    del foreign[RECORD_FILE]
    (site / STAGING_DIR).mkdir()
    (site / STAGING_DIR / "000000").write_bytes(EVIL)
    (site / JOURNAL_FILE).write_bytes(data)
    result = CliRunner().invoke(
        cli,
        ["build", "-p", str(shared_project), "-o", str(site), "--now", NOW, "--no-cache"],
        catch_exceptions=False,
    )
    assert_one_line_or_inert(result, site)
    after = tree_bytes(site)
    assert {name: after.get(name) for name in foreign} == foreign
    assert outside.read_text(encoding="utf-8") == OUTSIDE
    assert all(EVIL not in content for name, content in after.items() if name in foreign)
    shutil.rmtree(root)


def test_a_journal_without_a_record_cannot_replace_a_file_at_an_output_name(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    """A journal left in (or copied into) a site without a record must not act on its files.

    Found by an outside probe: recovery took every path that looks like an output as
    nieuwsbrief's, replaced the site's own feed.xml and removed its own topic list.
    """
    site, foreign, _ = site_with_record(tmp_path, b"", at_output_names=True)
    (site / RECORD_FILE).unlink()
    del foreign[RECORD_FILE]
    plant_journal(site, remove=[["tags/mine/list.html", hash_of(OWN_LIST)]])
    result = run_cli("build", "-p", project, "-o", site, "--now", NOW)
    after = tree_bytes(site)
    assert {name: after.get(name) for name in foreign} == foreign
    # The site's feed.xml is in the way of the build's own, as it would be without the
    # journal: the build is refused, naming it.
    assert result.exit_code == 1
    assert "'feed.xml' exists" in result.output and "move that file elsewhere" in result.output


def test_a_journal_that_cannot_be_carried_out_says_to_delete_it(
    project: Path, tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A move the file system refuses (here: permission) names the journal and the way out,
    not only "check that the folder is writable", which would not end it."""
    import errno

    site, _, _ = site_with_record(tmp_path, b"")
    (site / RECORD_FILE).unlink()
    plant_journal(site, remove=[])
    real_replace = Path.replace

    def refused(self: Path, target: Any) -> Any:
        if self.parent.name == STAGING_DIR:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", refused)
    result = run_cli("build", "-p", project, "-o", site, "--now", NOW)
    assert result.exit_code == 1
    line = result.output.strip()
    assert "\n" not in line and JOURNAL_FILE in line and "Permission denied" in line, line
    assert "delete it and .nieuwsbrief-staging/" in line, line
    assert not (site / "feed.xml").exists()


def test_a_journal_cannot_remove_or_replace_a_foreign_file(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    site, foreign, _ = site_with_record(tmp_path, b"")
    (site / RECORD_FILE).unlink()
    del foreign[RECORD_FILE]
    (site / STAGING_DIR).mkdir()
    (site / STAGING_DIR / "000000").write_bytes(EVIL)
    journal = {
        "format": JOURNAL_FORMAT,
        "files": {"digests/eigen.txt": hash_of(EVIL.decode())},
        "moves": [["000000", "digests/eigen.txt"]],
        "remove": [["index.html", hash_of("<h1>Eigen site</h1>\n")]],
    }
    (site / JOURNAL_FILE).write_text(json.dumps(journal), encoding="utf-8")
    result = run_cli("build", "-p", project, "-o", site, "--now", NOW)
    after = tree_bytes(site)
    assert {name: after[name] for name in foreign} == foreign
    assert not (site / JOURNAL_FILE).exists() and not (site / STAGING_DIR).exists()
    # The forged record claims eigen.txt, whose bytes are not the claimed ones and which the
    # journal did not move there: recovery leaves it out of the record, so it stays foreign
    # and the build leaves it alone (an earlier version recorded it and then had to stop).
    assert result.exit_code == 0, result.output
    record = json.loads((site / RECORD_FILE).read_text(encoding="utf-8"))
    assert "digests/eigen.txt" not in record["files"]


def test_an_oversized_record_is_refused_without_reading_it(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    site, before, _ = site_with_record(tmp_path, b"")
    with (site / RECORD_FILE).open("wb") as handle:
        handle.truncate(MAX_RECORD_BYTES + 1)  # sparse: no real disk use
    result = run_cli("build", "-p", project, "-o", site, "--now", NOW)
    assert result.exit_code == 1
    assert f"the record is larger than {MAX_RECORD_BYTES:,} bytes" in result.output
    assert (site / "index.html").read_bytes() == before["index.html"]


@pytest.mark.parametrize("garbage", [b"[" * 100_000, b"\xff\xfe", b'{"week": "2025-W48"}'])
def test_send_refuses_a_manifest_it_cannot_trust(
    garbage: bytes, project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "public"
    assert run_cli("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    (out / "digests/2025-W48/manifest.json").write_bytes(garbage)
    result = run_cli("send", "--to", "redactie@example.nl", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert "manifest.json: not a manifest nieuwsbrief wrote; run 'nieuwsbrief build'" in (
        result.output
    )
