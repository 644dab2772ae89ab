"""``nieuwsbrief init`` works from an installed wheel as well as from this checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import feedparser

from conftest import REPO, RunCli, tree_bytes


def defaults() -> dict[str, bytes]:
    """Return the repository's default settings and templates, the source of every init."""
    files = {"schedule.yaml": (REPO / "schedule.yaml").read_bytes()}
    files.update({f"templates/{k}": v for k, v in tree_bytes(REPO / "templates").items()})
    return files


def project_defaults(project: Path) -> dict[str, bytes]:
    files = tree_bytes(project)
    skip = ("articles/", ".gitignore")
    return {name: data for name, data in files.items() if not name.startswith(skip)}


def test_init_from_this_checkout_copies_the_repository_defaults(
    tmp_path: Path, run_cli: RunCli
) -> None:
    result = run_cli("init", tmp_path / "nieuw", "--no-input")
    assert result.exit_code == 0, result.output
    assert project_defaults(tmp_path / "nieuw") == defaults()


def test_init_from_an_installed_wheel(tmp_path: Path) -> None:
    from hatchling.builders.wheel import WheelBuilder

    [wheel] = WheelBuilder(str(REPO)).build(directory=str(tmp_path / "dist"), versions=["standard"])
    site = tmp_path / "site-packages"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    # PYTHONPATH comes before the editable install of this checkout, and the working folder
    # holds no source: what runs is the wheel's copy, with the defaults it carries.
    env = {**os.environ, "PYTHONPATH": str(site)}

    def nieuwsbrief(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "nieuwsbrief", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    where = subprocess.run(
        [sys.executable, "-c", "import nieuwsbrief.scaffold as s; print(s.skeleton_dir())"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()) == site / "nieuwsbrief" / "skeleton"

    created = nieuwsbrief("init", "praktijk", "--no-input")
    assert created.returncode == 0, created.stderr
    assert project_defaults(tmp_path / "praktijk") == defaults()
    # The example article is a draft; published, the wheel's templates render it.
    [article] = (tmp_path / "praktijk" / "articles").glob("*.md")
    article.write_text(article.read_text("utf-8").replace("draft: true\n", ""), "utf-8")
    built = nieuwsbrief("build", "-p", "praktijk", "-o", "public")
    assert built.returncode == 0, built.stderr
    feed = feedparser.parse((tmp_path / "public" / "feed.xml").read_bytes())
    assert [entry.title for entry in feed.entries] == ["Welkom bij onze nieuwsbrief"]
