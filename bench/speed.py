"""Time nieuwsbrief beside Hugo, Pelican and ``cat`` on the same realistic corpus, in one run.

Run from the repository with the project's virtualenv (Hugo from the Debian package on
PATH, skipped with a note where it is missing; Pelican from ``bench/.venv``, which
``--setup-pelican`` makes, is optional):

    .venv/bin/python bench/speed.py                      # 100, 1,000 and 10,000 articles
    .venv/bin/python bench/speed.py --sizes 100 1000 --runs 5
    .venv/bin/python bench/speed.py --setup-pelican      # first make bench/.venv with Pelican
    .venv/bin/python bench/speed.py --sizes 100000 --large-runs 1 --output speed-100k
    .venv/bin/python bench/speed.py --where /var/tmp        # corpora on another folder's disk

For each size it writes one corpus (bench/realistic.py) three times over, then alternates
the tools round by round (nieuwsbrief, Hugo, Pelican, cat; then again), so that a change in
the machine's load hits all of them alike. Timed as whole processes, with the child's peak
RSS. nieuwsbrief is timed as:

* cold: no cache, empty --out, every output (main and 40 topic feeds with RFC 5005
  archives, lists, related lists, digest, archive page);
* confirming rebuild: the first rebuild after a build that wrote files; it renders (from
  the caches) and finds nothing to write, and records that for the next one;
* unchanged rebuild: inputs and --out as the last build left them; it stops early;
* one article changed: one article's text edited before each build.

Hugo writes its per-tag RSS (home, section, taxonomy and term feeds, no pages); Pelican
its RSS and Atom feeds only. Beside them, in the same rounds, the floors of bench/floor.py:
the interpreter with the CLI's imports, and (at 100 articles and below, where a build
renders every published body) that plus loading every article and rendering the published
ones' Markdown.

A cold build writes thousands of files, Hugo here a few dozen: how fast the disk creates
files moves nieuwsbrief's figures alone. On the machine these results come from, creating
a file in a folder under /tmp took 0.5 ms, under /var/tmp 0.03 ms (the same ext4 disk):
each size records the folder and its own measure (``file_create_ms``) before it runs.
Writes bench/results/speed.md and speed.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import realistic

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
NOW = "2025-11-24T09:00:00+01:00"
NIEUWSBRIEF = [sys.executable, "-m", "nieuwsbrief"]
PELICAN_PYTHON = BENCH / ".venv" / "bin" / "python"
HUGO_CONFIG = """\
baseURL = "https://www.praktijkdelinde.nl/"
languageCode = "nl"
title = "Praktijk De Linde"
timeZone = "Europe/Amsterdam"
disableKinds = ["sitemap", "robotsTXT", "404"]
[outputs]
home = ["RSS"]
section = ["RSS"]
taxonomy = ["RSS"]
term = ["RSS"]
page = []
[services.rss]
limit = 20
"""
PELICAN_CONF = """\
AUTHOR = "Praktijk De Linde"
SITENAME = "Praktijk De Linde"
SITEURL = "https://www.praktijkdelinde.nl"
TIMEZONE = "Europe/Amsterdam"
DEFAULT_LANG = "nl"
PATH = "content"
LOAD_CONTENT_CACHE = False
WITH_FUTURE_DATES = False
FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "atom.xml"
FEED_ALL_RSS = "feed.xml"
FEED_MAX_ITEMS = 20
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
ARTICLE_SAVE_AS = ""
ARTICLE_LANG_SAVE_AS = ""
DRAFT_SAVE_AS = ""
PAGE_SAVE_AS = ""
CATEGORY_SAVE_AS = ""
TAG_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
DIRECT_TEMPLATES = []
THEME_STATIC_PATHS = []
STATIC_PATHS = []
"""


# Every tool runs as installed: Python with its bytecode (a machine that sets
# PYTHONDONTWRITEBYTECODE would compile every module on every run, ~0.2 s a process).
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run(argv: list[str], cwd: Path | None = None) -> tuple[float, int]:
    """Run a command; return its wall time in seconds and its peak RSS in KiB."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    error = process.stderr.read().decode() if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv} failed: {error}")
    return elapsed, int(usage.ru_maxrss)


def file_create_ms(folder: Path, count: int = 2000) -> float:
    """Return the milliseconds to create, write (3 KB) and close one new file in ``folder``."""
    probe = Path(tempfile.mkdtemp(prefix="create-probe-", dir=folder))
    try:
        started = time.perf_counter()
        for number in range(count):
            (probe / f"{number:06d}").write_bytes(b"x" * 3000)
        return round((time.perf_counter() - started) * 1000 / count, 3)
    finally:
        shutil.rmtree(probe)


def setup_pelican() -> None:
    """Make bench/.venv with Pelican and Markdown (not project dependencies)."""
    if not PELICAN_PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH / ".venv")], check=True)
    if not has_pelican():
        install = [str(PELICAN_PYTHON), "-m", "pip", "install", "-q", "pelican", "markdown"]
        subprocess.run(install, check=True)


def has_pelican() -> bool:
    if not PELICAN_PYTHON.exists():
        return False
    probe = [str(PELICAN_PYTHON), "-c", "import pelican, markdown"]
    return subprocess.run(probe, check=False, capture_output=True).returncode == 0


def measure(
    size: int, runs: int, pelican_runs: int, root: Path, with_hugo: bool
) -> dict[str, object]:
    now = dt.datetime.fromisoformat(NOW)
    paths = realistic.write(root, size, now)
    project, hugo, pelican = paths["nieuwsbrief"], paths["hugo"], paths["pelican"]
    shutil.copy2(REPO / "schedule.yaml", project / "schedule.yaml")
    shutil.copytree(REPO / "templates", project / "templates")
    (hugo / "config.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    (hugo / "layouts").mkdir(exist_ok=True)
    (pelican / "pelicanconf.py").write_text(PELICAN_CONF, encoding="utf-8")
    out = root / "out"
    cache = project / ".nieuwsbrief-cache"
    build = [*NIEUWSBRIEF, "-q", "build", "-p", str(project), "-o", str(out), "--now", NOW]
    files = sorted(str(path) for path in (project / "articles").glob("*.md"))
    cat = ["sh", "-c", 'cat "$@" > /dev/null', "cat", *files]
    hugo_cmd = ["hugo", "--quiet", "--source", str(hugo)]
    pelican_cmd = [
        str(PELICAN_PYTHON), "-m", "pelican", "content", "-o", str(pelican / "output"),
        "-s", "pelicanconf.py", "-q",
    ]  # fmt: skip
    floor = [sys.executable, str(BENCH / "floor.py")]
    floor_start = [*floor, "start", str(project)]
    floor_markdown = [*floor, "markdown", str(project)]
    times: dict[str, list[float]] = {}
    peaks: dict[str, int] = {}

    def timed(
        name: str, argv: list[str], before: Callable[[], None] | None = None, **kw: object
    ) -> None:
        if before:
            before()
        elapsed, peak = run(argv, **kw)  # type: ignore[arg-type]
        times.setdefault(name, []).append(elapsed)
        peaks[name] = max(peaks.get(name, 0), peak)

    def empty() -> None:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)

    def settle() -> None:
        # An editor's next build comes minutes after the last. Within 2 s of a write the
        # stop by stat does not trust file times (racily clean files, docs/performance.md):
        # a confirming build that close records no signature, and the next one loads
        # every article, which a bench running builds back to back would time instead.
        time.sleep(2.1)

    article = Path(files[len(files) // 2])
    original = article.read_text("utf-8")
    edits = iter(range(1_000_000))

    def edit() -> None:
        article.write_text(original + f"\nBewerking {next(edits)}.\n", "utf-8")

    create_ms = file_create_ms(root)
    load_before = os.getloadavg()
    for round_number in range(runs):
        timed("nieuwsbrief_cold", build, empty)
        if with_hugo:
            timed("hugo", hugo_cmd, lambda: shutil.rmtree(hugo / "public", ignore_errors=True))
        if round_number < pelican_runs:
            timed(
                "pelican",
                pelican_cmd,
                lambda: shutil.rmtree(pelican / "output", ignore_errors=True),
                cwd=pelican,
            )
        timed("cat", cat)
        timed("floor_start", floor_start)
        if size <= 100:
            timed("floor_markdown", floor_markdown)
        timed("nieuwsbrief_confirming", build, settle)
        timed("nieuwsbrief_unchanged", build, settle)
        timed("cat", cat)
        timed("nieuwsbrief_one_changed", build, edit)
        timed("nieuwsbrief_confirming_after_change", build, settle)
        timed("nieuwsbrief_unchanged", build, settle)
    load_after = os.getloadavg()
    article.write_text(original, "utf-8")
    medians = {name: statistics.median(values) for name, values in times.items()}
    hugo_time, cat_time = medians.get("hugo"), medians["cat"]

    def to_hugo(name: str) -> float | None:
        return round(medians[name] / hugo_time, 2) if hugo_time else None

    result: dict[str, object] = {
        "articles": size,
        "runs": runs,
        "median_s": {name: round(value, 3) for name, value in medians.items()},
        "samples_s": {name: [round(v, 3) for v in values] for name, values in times.items()},
        "peak_mib": {name: round(peak / 1024, 1) for name, peak in peaks.items()},
        "ratio_cold_to_hugo": to_hugo("nieuwsbrief_cold"),
        "ratio_floor_start_to_hugo": to_hugo("floor_start"),
        "ratio_floor_markdown_to_hugo": (
            to_hugo("floor_markdown") if "floor_markdown" in medians else None
        ),
        "ratio_unchanged_to_hugo": to_hugo("nieuwsbrief_unchanged"),
        # Flat from 1,000 to 100,000 articles is issue 15's goal.
        "cold_ms_per_article": round(medians["nieuwsbrief_cold"] * 1000 / size, 3),
        "ratio_unchanged_to_cat": round(medians["nieuwsbrief_unchanged"] / cat_time, 2),
        "ratio_one_changed_to_unchanged": round(
            medians["nieuwsbrief_one_changed"] / medians["nieuwsbrief_unchanged"], 2
        ),
        "files_written": sum(1 for path in out.rglob("*") if path.is_file()),
        "hugo_feeds": sum(1 for _ in (hugo / "public").rglob("index.xml")) if with_hugo else 0,
        "folder": str(root.parent),
        "file_create_ms": create_ms,
        "load_before": [round(value, 2) for value in load_before],
        "load_after": [round(value, 2) for value in load_after],
    }
    if "pelican" in medians:
        result["ratio_cold_to_pelican"] = round(medians["nieuwsbrief_cold"] / medians["pelican"], 3)
    return result


def machine() -> dict[str, object]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    hugo = (
        subprocess.run(["hugo", "version"], capture_output=True, text=True).stdout.split()
        if shutil.which("hugo")
        else []
    )
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "hugo": hugo[1] if len(hugo) > 1 else "missing: not measured",
        "system": platform.platform(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def markdown(results: list[dict[str, object]], info: dict[str, object], name: str) -> str:
    lines = [
        "# nieuwsbrief beside Hugo, Pelican and cat",
        "",
        f"`bench/speed.py`, {info['date']}. {info['cpu']}, {info['cpus']} cores (shared with",
        f"other builds and test runs), Python {info['python']}, Hugo {info['hugo']}. Medians of",
        "the runs given; every tool measured in the same rounds, alternating. Load: 1-minute",
        "load average before and after each size; above 1.5 every figure is inflated by it.",
        "",
        "| articles | runs | load | cold | confirming rebuild | unchanged | one changed | Hugo "
        "| Pelican | cat | cold / Hugo | unchanged / Hugo | unchanged / cat "
        "| one changed / unchanged | cold ms per article | peak MiB "
        "| floor: start / Hugo | floor: Markdown / Hugo | file create ms |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for r in results:
        m: dict[str, float] = r["median_s"]  # type: ignore[assignment]
        peak: dict[str, float] = r["peak_mib"]  # type: ignore[assignment]
        before: list[float] = r["load_before"]  # type: ignore[assignment]
        after: list[float] = r["load_after"]  # type: ignore[assignment]
        load = f"{before[0]} → {after[0]}" + (" (high)" if max(before[0], after[0]) > 1.5 else "")
        pelican = f"{m['pelican']:.3f} s" if "pelican" in m else "not run"
        hugo = f"{m['hugo']:.3f} s" if "hugo" in m else "not run"

        def ratio(value: object) -> str:
            return "–" if value is None else f"{value}×"

        lines.append(
            f"| {r['articles']:,} | {r['runs']} | {load} | {m['nieuwsbrief_cold']:.3f} s "
            f"| {m['nieuwsbrief_confirming']:.3f} s | {m['nieuwsbrief_unchanged']:.3f} s "
            f"| {m['nieuwsbrief_one_changed']:.3f} s | {hugo} | {pelican} "
            f"| {m['cat']:.3f} s | {ratio(r['ratio_cold_to_hugo'])} "
            f"| {ratio(r['ratio_unchanged_to_hugo'])} "
            f"| {r['ratio_unchanged_to_cat']}× | {r['ratio_one_changed_to_unchanged']}× "
            f"| {r['cold_ms_per_article']} "
            f"| {max(v for k, v in peak.items() if k.startswith('nieuwsbrief'))} "
            f"| {ratio(r['ratio_floor_start_to_hugo'])} "
            f"| {ratio(r['ratio_floor_markdown_to_hugo'])} | {r['file_create_ms']} |"
        )
    folders = sorted({str(r["folder"]) for r in results})
    lines += [
        "",
        f"Corpora and --out in {', '.join(folders)}. Every sample is in `{name}.json`.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10_000])
    parser.add_argument("--runs", type=int, default=5, help="rounds below 10,000 articles")
    parser.add_argument("--large-runs", type=int, default=3, help="rounds at 10,000 and more")
    parser.add_argument("--pelican-large-runs", type=int, default=0)
    parser.add_argument("--output", default="speed")
    parser.add_argument("--setup-pelican", action="store_true", help="make bench/.venv first")
    parser.add_argument("--where", help="folder for the corpora and outputs (default: TMPDIR)")
    args = parser.parse_args()
    if args.setup_pelican:
        setup_pelican()
    with_hugo = shutil.which("hugo") is not None
    if not with_hugo:
        print("hugo is not on PATH (apt-get install hugo): measured without it", file=sys.stderr)
    pelican = has_pelican()
    # Bytecode for the package and its libraries, as a fresh install leaves it.
    compile_all = [sys.executable, "-m", "compileall", "-q", str(REPO / "src"), *sys.path[1:]]
    subprocess.run(compile_all, env=ENV, check=False, capture_output=True)
    results = []
    for size in args.sizes:
        runs = args.runs if size < 10_000 else args.large_runs
        pelican_runs = (runs if size < 10_000 else args.pelican_large_runs) if pelican else 0
        with tempfile.TemporaryDirectory(prefix="nieuwsbrief-speed-", dir=args.where) as tmp:
            results.append(measure(size, runs, pelican_runs, Path(tmp), with_hugo))
        print(json.dumps(results[-1]["median_s"]), file=sys.stderr)
    info = machine()
    RESULTS.mkdir(exist_ok=True)
    data = {"machine": info, "pelican": pelican, "results": results}
    (RESULTS / f"{args.output}.json").write_text(json.dumps(data, indent=1) + "\n", "utf-8")
    text = markdown(results, info, args.output)
    (RESULTS / f"{args.output}.md").write_text(text, "utf-8")
    print(text)


if __name__ == "__main__":
    main()
