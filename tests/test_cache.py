"""The build cache makes rebuilds fast and never changes a single output byte."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, RunCli, set_setting, tree_bytes, write_article
from nieuwsbrief import reuse
from nieuwsbrief.build import load_site
from nieuwsbrief.cache import CACHE_DIR, CACHE_FILE, ArticleCache
from nieuwsbrief.config import load_settings
from nieuwsbrief.markup import strip_xml_illegal


def build(run_cli: RunCli, project: Path, out: Path, *extra: str) -> None:
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW, *extra)
    assert result.exit_code == 0, result.output


def test_cached_build_equals_a_clean_build(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    build(run_cli, project, tmp_path / "clean", "--no-cache")
    assert not (project / CACHE_DIR).exists()
    build(run_cli, project, tmp_path / "cold")
    assert (project / CACHE_DIR / CACHE_FILE).is_file()
    build(run_cli, project, tmp_path / "warm")
    clean = tree_bytes(tmp_path / "clean")
    assert tree_bytes(tmp_path / "cold") == clean
    assert tree_bytes(tmp_path / "warm") == clean


def test_cached_articles_equal_parsed_articles(project: Path) -> None:
    fresh = load_site(project).articles
    load_site(project, cache=True)
    settings = load_settings(project / "schedule.yaml")
    cache = ArticleCache(project, settings.site)
    cached = [cache.load(article.source, settings.site) for article in fresh]
    assert cache.hits == len(fresh)
    assert cached == fresh
    for old, new in zip(fresh, cached, strict=True):
        assert (old.date.tzinfo, old.summary, old.content_html) == (
            new.date.tzinfo,
            new.summary,
            new.content_html,
        )


def test_a_changed_article_is_parsed_again(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    build(run_cli, project, tmp_path / "first")
    article = next((project / "articles").glob("*winterdip.md"))
    article.write_text(article.read_text("utf-8").replace("Winterdip", "Winterblues", 1), "utf-8")
    build(run_cli, project, tmp_path / "cached")
    build(run_cli, project, tmp_path / "clean", "--no-cache")
    assert tree_bytes(tmp_path / "cached") == tree_bytes(tmp_path / "clean")
    assert b"Winterblues" in (tmp_path / "cached" / "feed.xml").read_bytes()


def test_changed_settings_invalidate_the_cache(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    build(run_cli, project, tmp_path / "first")
    set_setting(project, "site", "base_url", "https://www.anders.example")
    build(run_cli, project, tmp_path / "cached")
    assert (
        b"https://www.praktijkdelinde.nl/artikelen/"
        not in (tmp_path / "cached" / "feed.xml").read_bytes()
    )
    build(run_cli, project, tmp_path / "clean", "--no-cache")
    assert tree_bytes(tmp_path / "cached") == tree_bytes(tmp_path / "clean")


@pytest.mark.parametrize(
    "damage",
    [b"", b"{niet: json", b'{"key": 1, "articles": []}', b"[]", b"\xff\xfe"],
    ids=["empty", "broken-json", "wrong-types", "list", "not-utf8"],
)
def test_a_corrupt_cache_is_ignored(
    damage: bytes, project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    build(run_cli, project, tmp_path / "clean", "--no-cache")
    (project / CACHE_DIR).mkdir()
    (project / CACHE_DIR / CACHE_FILE).write_bytes(damage)
    build(run_cli, project, tmp_path / "out")
    assert tree_bytes(tmp_path / "out") == tree_bytes(tmp_path / "clean")


def test_a_damaged_entry_is_parsed_again(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    import json

    build(run_cli, project, tmp_path / "clean", "--no-cache")
    build(run_cli, project, tmp_path / "warm")
    path = project / CACHE_DIR / CACHE_FILE
    data = json.loads(path.read_text("utf-8"))
    for entry in data["articles"].values():
        entry["front"]["date"] = "geen datum"
    path.write_text(json.dumps(data), "utf-8")
    build(run_cli, project, tmp_path / "out")
    assert tree_bytes(tmp_path / "out") == tree_bytes(tmp_path / "clean")


def test_errors_are_found_with_a_warm_cache(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    build(run_cli, project, tmp_path / "out")
    write_article(project, "2025-11-20-dubbel.md", title="Dubbel", slug="winterdip")
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 1
    assert "slug 'winterdip' is already used" in result.output


HEAVY = ("lxml", "mjml", "nh3", "markdown_it", "feedgen", "css_inline", "jinja2", "watchfiles")


def test_the_cli_starts_without_heavy_libraries() -> None:
    import importlib.util
    import subprocess
    import sys

    # Every name is a library nieuwsbrief really installs: a name that is not would pass below.
    assert [name for name in HEAVY if importlib.util.find_spec(name) is None] == []

    # A fresh interpreter: this test process has long imported everything.
    script = (
        "import sys, nieuwsbrief.cli\n"
        "print('\\n'.join(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "click" in loaded
    assert [name for name in HEAVY if name in loaded] == []


# -- a cache is input too: read back with the rules of fresh input ---------------------


def cache_data(project: Path) -> dict:
    import json

    return json.loads((project / CACHE_DIR / CACHE_FILE).read_text("utf-8"))


def write_cache(project: Path, data: object) -> None:
    import json

    (project / CACHE_DIR / CACHE_FILE).write_text(json.dumps(data), "utf-8")


def test_a_tampered_entry_cannot_put_javascript_into_outputs(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    build(run_cli, project, tmp_path / "clean", "--no-cache")
    build(run_cli, project, tmp_path / "warm")
    data = cache_data(project)
    for entry in data["articles"].values():
        entry["front"]["image"] = "javascript:alert(1)"
        entry["front"]["url"] = "javascript:alert(2)"
        entry["front"]["slug"] = "javascript:alert(3)"
        entry["record"] = {"url": "javascript:alert(4)"}
    write_cache(project, data)
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 0, result.output
    warning = "entry '2025-11-03-winterdip.md' does not validate; the file is read again"
    assert warning in result.output
    assert result.output.count("does not validate") == len(data["articles"])
    assert tree_bytes(tmp_path / "out") == tree_bytes(tmp_path / "clean")
    for data_bytes in tree_bytes(tmp_path / "out").values():
        assert b"javascript:alert" not in data_bytes


def test_a_plausible_tampered_value_is_validated_like_fresh_input(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    build(run_cli, project, tmp_path / "warm")
    data = cache_data(project)
    name = next(iter(data["articles"]))
    data["articles"][name]["front"]["title"] = {"niet": "tekst"}
    write_cache(project, data)
    build(run_cli, project, tmp_path / "out")
    build(run_cli, project, tmp_path / "clean", "--no-cache")
    assert tree_bytes(tmp_path / "out") == tree_bytes(tmp_path / "clean")


@pytest.mark.parametrize("entry", [[], "tekst", 7, None, {"sha256": 1}, {"front": []}])
def test_an_entry_that_is_not_an_object_is_a_warning(
    entry: object, project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    build(run_cli, project, tmp_path / "clean", "--no-cache")
    build(run_cli, project, tmp_path / "warm")
    data = cache_data(project)
    name = next(iter(data["articles"]))
    data["articles"][name] = entry
    write_cache(project, data)
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    if entry is not None and not isinstance(entry, dict):
        assert f"entry '{name}' is {type(entry).__name__}, not an object" in result.output
    assert tree_bytes(tmp_path / "out") == tree_bytes(tmp_path / "clean")


def test_a_cache_of_other_code_is_never_read(project: Path, tmp_path: Path) -> None:
    from nieuwsbrief import cache as cache_module

    load_site(project, cache=True)
    settings = load_settings(project / "schedule.yaml")
    assert ArticleCache(project, settings.site).entries
    # Same version number, other source code: the key differs, the entries are ignored.
    key = cache_module.settings_key(settings.site)
    cache_module.code_key.cache_clear()
    source = Path(cache_module.__file__)
    original = source.read_bytes()
    try:
        source.write_bytes(original + b"\n# another rule\n")
        assert cache_module.settings_key(settings.site) != key
        assert ArticleCache(project, settings.site).entries == {}
    finally:
        source.write_bytes(original)
        cache_module.code_key.cache_clear()


def test_temp_files_of_a_killed_save_are_removed(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    import subprocess
    import sys

    (project / CACHE_DIR).mkdir()
    # A process that has exited: its pid is free, like that of a build killed mid-save.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = project / CACHE_DIR / f".articles-{dead.stdout.strip()}-abc123"
    stale.write_bytes(b"")
    old_style = project / CACHE_DIR / ".articles-xyz"
    old_style.write_bytes(b'{"half')
    build(run_cli, project, tmp_path / "out")
    assert sorted(p.name for p in (project / CACHE_DIR).iterdir()) == sorted(
        [CACHE_FILE, reuse.CACHE_FILE]
    )


def test_an_unsavable_cache_leaves_no_temp_file(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(project / "schedule.yaml")
    cache = ArticleCache(project, settings.site)
    # A name os.listdir hands over for bytes that are not UTF-8 cannot be encoded.
    cache.used["\udcff.md"] = {"sha256": "0", "front": {}}
    cache.save()
    assert not (project / CACHE_DIR).exists() or [
        p.name for p in (project / CACHE_DIR).iterdir()
    ] in ([], [CACHE_FILE])


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    damage=st.one_of(
        JSON.map(lambda value: ("entries", value)),
        JSON.map(lambda value: ("front", value)),
        JSON.map(lambda value: ("file", value)),
        st.binary(max_size=200).map(lambda value: ("bytes", value)),
    )
)
def test_any_cache_content_gives_the_bytes_of_a_clean_build(
    damage: tuple[str, object], cached_project: tuple[Path, dict[str, bytes], bytes]
) -> None:
    import json

    from click.testing import CliRunner

    from nieuwsbrief.cli import cli

    project, clean, pristine = cached_project
    path = project / CACHE_DIR / CACHE_FILE
    kind, value = damage
    data = json.loads(pristine)
    if kind == "entries":
        data["articles"] = dict.fromkeys(data["articles"], value)
    elif kind == "front":
        for entry in data["articles"].values():
            entry["front"] = value
    elif kind == "file":
        data = value
    raw = value if kind == "bytes" else json.dumps(data).encode()
    assert isinstance(raw, bytes)
    path.write_bytes(raw)
    out = project.parent / "out"
    result = CliRunner().invoke(cli, ["build", "-p", str(project), "-o", str(out), "--now", NOW])
    assert result.exit_code == 0, result.output
    assert tree_bytes(out) == clean


@pytest.fixture(scope="module")
def cached_project(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, bytes], bytes]:
    from click.testing import CliRunner

    from conftest import copy_example_project
    from nieuwsbrief.cli import cli

    root = tmp_path_factory.mktemp("cached")
    project = copy_example_project(root / "project")
    CliRunner().invoke(
        cli, ["build", "-p", str(project), "-o", str(root / "clean"), "--now", NOW, "--no-cache"]
    )
    CliRunner().invoke(cli, ["build", "-p", str(project), "-o", str(root / "warm"), "--now", NOW])
    return project, tree_bytes(root / "clean"), (project / CACHE_DIR / CACHE_FILE).read_bytes()


FRONT_DATES = st.one_of(
    st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2025, 11, 23)).map(
        lambda moment: moment.isoformat(timespec="minutes")
    ),
    # The skipped and the repeated hour of 2025 in Amsterdam, which a cache once shifted.
    st.sampled_from(
        [
            "2025-03-30T02:30",
            "2025-10-26T02:30",
            "2025-03-30 02:15 Europe/Amsterdam",
            "2025-10-26T02:30:00+01:00",
        ]
    ),
)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    date=FRONT_DATES,
    # A title of only control characters is h2's (empty after cleaning: feedgen raises);
    # reported, and left out here, where the cache is the subject.
    title=st.text(min_size=1, max_size=30).filter(lambda text: strip_xml_illegal(text).strip()),
    body=st.text(max_size=200),
    extra=st.sampled_from(
        [
            "",
            "tags: [angst, slaap]\n",
            "summary: Kort.\n",
            "updated: 2025-11-22\n",
            "draft: true\n",
            "image: /beeld.jpg\n",
        ]
    ),
)
def test_warm_and_cold_builds_are_byte_identical(
    date: str, title: str, body: str, extra: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import json
    import shutil

    from click.testing import CliRunner

    from conftest import REPO
    from nieuwsbrief.cli import cli

    root = tmp_path_factory.mktemp("warmcold")
    project = root / "project"
    (project / "articles").mkdir(parents=True)
    shutil.copy2(REPO / "schedule.yaml", project / "schedule.yaml")
    shutil.copytree(REPO / "templates", project / "templates")
    (project / "articles" / "proef.md").write_text(
        f"---\ntitle: {json.dumps(title)}\ndate: {date}\n{extra}---\n\n{body}\n", "utf-8"
    )
    outputs = []
    for name in ("cold", "warm", "clean"):
        args = ["build", "-p", str(project), "-o", str(root / name), "--now", NOW]
        result = CliRunner().invoke(cli, [*args, "--no-cache"] if name == "clean" else args)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        outputs.append(
            (result.exit_code, tree_bytes(root / name) if result.exit_code == 0 else result.output)
        )
    assert outputs[0] == outputs[1] == outputs[2]


def test_the_cache_wraps_the_loader_from_outside(project: Path) -> None:
    """articles.py never imports the cache (issue 10); it takes any loader, the cache's too."""
    import ast

    import nieuwsbrief.articles
    from nieuwsbrief.articles import load_article, scan_articles

    tree = ast.parse(Path(nieuwsbrief.articles.__file__).read_text("utf-8"))
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "nieuwsbrief.cache" not in imported
    settings = load_settings(project / "schedule.yaml")
    seen: list[str] = []

    def loader(path: Path, site: Any) -> Any:
        seen.append(path.name)
        return load_article(path, site)

    plain, errors = scan_articles(project / "articles", settings.site)
    wrapped, _ = scan_articles(project / "articles", settings.site, None, loader)
    assert not errors and wrapped == plain
    assert sorted(seen) == sorted(article.source.name for article in plain)
    cache = ArticleCache(project, settings.site)
    cached, _ = scan_articles(project / "articles", settings.site, None, cache.load)
    assert cached == plain
