"""Benchmark nieuwsbrief against Pelican on generated corpora of 100, 1,000 and 10,000 articles.

Run from the repository, with the project's virtualenv:

    .venv/bin/python bench/run.py            # all sizes (about 2 minutes on 2 cores)
    .venv/bin/python bench/run.py --sizes 100 1000 --runs 3

Pelican and matplotlib are installed into bench/.venv (not project dependencies). The script
writes bench/results/results.md, results.json and build-time.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus import write_corpus

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
BENCH_VENV = BENCH / ".venv"
NOW = "2025-11-24T09:00:00+01:00"
NIEUWSBRIEF = [sys.executable, "-m", "nieuwsbrief"]

PELICAN_CONF = """\
AUTHOR = "Praktijk De Linde"
SITENAME = "Praktijk De Linde"
SITEURL = "https://www.praktijkdelinde.nl"
TIMEZONE = "Europe/Amsterdam"
DEFAULT_LANG = "nl"
PATH = "content"
LOAD_CONTENT_CACHE = False
# Feeds only, like nieuwsbrief: the newest 20 articles as RSS and Atom, full content.
FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "atom.xml"
FEED_ALL_RSS = "feed.xml"
FEED_MAX_ITEMS = 20
RSS_FEED_SUMMARY_ONLY = False
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
# Write no HTML pages, so both tools produce the same thing.
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


def run(argv: list[str], cwd: Path | None = None) -> tuple[float, int]:
    """Run a command; return its wall time in seconds and its peak RSS in KiB."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise RuntimeError(f"{argv} failed: {error}")
    if process.stderr:
        process.stderr.close()
    return elapsed, int(usage.ru_maxrss)


def median_run(
    argv: list[str], runs: int, before: object = None, cwd: Path | None = None
) -> tuple[float, int]:
    times, peaks = [], []
    for _ in range(runs):
        if callable(before):
            before()
        elapsed, peak = run(argv, cwd)
        times.append(elapsed)
        peaks.append(peak)
    return statistics.median(times), max(peaks)


def bench_python() -> Path:
    """Return the benchmark venv's python, creating it with Pelican and matplotlib."""
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    probe = subprocess.run([str(python), "-c", "import pelican, markdown, matplotlib"], check=False)
    if probe.returncode != 0:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "pelican", "markdown", "matplotlib"],
            check=True,
        )
    return python


def measure_size(size: int, runs: int, pelican_python: Path, root: Path) -> dict[str, float]:
    project, pelican_site = write_corpus(root / str(size), size)
    shutil.copy2(REPO / "schedule.yaml", project / "schedule.yaml")
    shutil.copytree(REPO / "templates", project / "templates")
    out = root / str(size) / "public"
    build = [*NIEUWSBRIEF, "-q", "build", "-p", str(project), "-o", str(out), "--now", NOW]
    cache = project / ".nieuwsbrief-cache"

    def clean() -> None:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)

    full, full_peak = median_run(build, runs, clean)
    run(build)  # warm the cache
    unchanged, unchanged_peak = median_run(build, runs)
    article = sorted((project / "articles").glob("*.md"))[size // 2]
    original = article.read_text("utf-8")
    edits = iter(range(10_000))

    def edit_one() -> None:
        article.write_text(original + f"\nBewerking {next(edits)}.\n", "utf-8")

    one_changed, _ = median_run(build, runs, edit_one)
    (pelican_site / "pelicanconf.py").write_text(PELICAN_CONF, "utf-8")
    pelican_out = pelican_site / "output"
    pelican = [
        str(pelican_python),
        "-m",
        "pelican",
        "content",
        "-o",
        str(pelican_out),
        "-s",
        "pelicanconf.py",
        "-q",
    ]
    pelican_runs = max(1, runs if size < 10_000 else min(runs, 2))
    pelican_time, pelican_peak = median_run(
        pelican, pelican_runs, lambda: shutil.rmtree(pelican_out, ignore_errors=True), pelican_site
    )
    assert (pelican_out / "feed.xml").exists() and (pelican_out / "atom.xml").exists()
    return {
        "articles": size,
        "full": full,
        "unchanged": unchanged,
        "one_changed": one_changed,
        "peak_mib": max(full_peak, unchanged_peak) / 1024,
        "pelican": pelican_time,
        "pelican_peak_mib": pelican_peak / 1024,
        "ratio": pelican_time / full,
    }


def shipped_example(runs: int, root: Path) -> tuple[float, float]:
    out = root / "example"
    build = [
        *NIEUWSBRIEF,
        "-q",
        "build",
        "-p",
        str(REPO),
        "-o",
        str(out),
        "--now",
        NOW,
        "--no-cache",
    ]
    example, _ = median_run(build, runs)
    help_time, _ = median_run([*NIEUWSBRIEF, "--help"], max(runs, 10))
    return example, help_time


def machine() -> str:
    cpu = "unknown CPU"
    with_cpuinfo = Path("/proc/cpuinfo")
    if with_cpuinfo.exists():
        for line in with_cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"


def write_results(
    rows: list[dict[str, float]], example: float, help_time: float, load: tuple[float, float]
) -> None:
    RESULTS.mkdir(exist_ok=True)
    lines = [
        f"Machine: {machine()}.",
        # Other work on the machine slows every number; say how busy it was.
        f"Load average (1 min) at start and end: {load[0]:.1f}, {load[1]:.1f}.",
        "",
        f"- `nieuwsbrief --help`: {help_time * 1000:.0f} ms (target < 150 ms)",
        f"- full build of the shipped example: {example:.2f} s (target < 0.5 s)",
        "",
        "| articles | full build | unchanged rebuild | one article changed | peak memory "
        "| Pelican (feeds only) | Pelican peak | Pelican / nieuwsbrief |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['articles']:,} | {row['full']:.2f} s | {row['unchanged']:.2f} s | "
            f"{row['one_changed']:.2f} s | {row['peak_mib']:.0f} MiB | {row['pelican']:.2f} s | "
            f"{row['pelican_peak_mib']:.0f} MiB | {row['ratio']:.1f}× |"
        )
    (RESULTS / "results.md").write_text("\n".join(lines) + "\n", "utf-8")
    (RESULTS / "results.json").write_text(
        json.dumps(
            {"machine": machine(), "help": help_time, "example": example, "sizes": rows}, indent=2
        )
        + "\n",
        "utf-8",
    )
    print("\n".join(lines))


def plot(python: Path) -> None:
    script = f"""
import json
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
data = json.load(open({str(RESULTS / "results.json")!r}))
rows = data["sizes"]
sizes = [row["articles"] for row in rows]
fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
ax.plot(sizes, [row["pelican"] for row in rows], "o-", label="Pelican 4 (RSS + Atom only)")
ax.plot(sizes, [row["full"] for row in rows], "o-", label="nieuwsbrief, full build")
ax.plot(sizes, [row["unchanged"] for row in rows], "o--", label="nieuwsbrief, unchanged rebuild")
ax.set_xscale("log"); ax.set_yscale("log")
ax.set_xlabel("articles"); ax.set_ylabel("seconds (median)")
ax.set_title("Build time against corpus size")
ax.grid(True, which="both", alpha=0.3); ax.legend()
fig.tight_layout(); fig.savefig({str(RESULTS / "build-time.png")!r})
"""
    subprocess.run([str(python), "-c", script], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10_000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    pelican_python = bench_python()
    load_at_start = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="nieuwsbrief-bench-") as tmp:
        root = Path(tmp)
        example, help_time = shipped_example(args.runs, root)
        for size in args.sizes:
            print(f"measuring {size:,} articles ...", file=sys.stderr)
            rows.append(measure_size(size, args.runs if size < 10_000 else 3, pelican_python, root))
    write_results(rows, example, help_time, (load_at_start, os.getloadavg()[0]))
    plot(pelican_python)


if __name__ == "__main__":
    main()
