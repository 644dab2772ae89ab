"""Benchmark the topic layer: 10,000 articles on about 40 topics, beside Hugo's per-tag RSS.

Run from the repository, with the project's virtualenv (Hugo must be on PATH):

    .venv/bin/python bench/topics.py                # 10,000 articles, 3 runs each
    .venv/bin/python bench/topics.py --count 1000 --runs 1

It times, on the same articles: nieuwsbrief's full build (every feed, the per-topic feeds,
lists, related articles and the digest archive) without cache into an empty folder; an
unchanged rebuild (cache on, same --out); reading the article files (``cat``); and Hugo
writing its per-tag RSS feeds (``hugo`` with only RSS outputs). It writes
bench/results/topics.md and topics.json with the machine's load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus import article

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
NOW = "2025-11-24T09:00:00+01:00"
NIEUWSBRIEF = [sys.executable, "-m", "nieuwsbrief"]
TOPICS = [
    "angst",
    "paniek",
    "fobieën",
    "slaap",
    "piekeren",
    "somberheid",
    "depressie",
    "rouw",
    "verlies",
    "eenzaamheid",
    "relaties",
    "ouderschap",
    "gezin",
    "werk",
    "burn-out",
    "werkstress",
    "re-integratie",
    "zelfzorg",
    "zelfcompassie",
    "grenzen",
    "trauma",
    "emdr",
    "cgt",
    "act",
    "mindfulness",
    "behandeling",
    "praktijk",
    "hulp zoeken",
    "jongeren",
    "ouderen",
    "studenten",
    "verslaving",
    "alcohol",
    "eetproblemen",
    "adhd",
    "autisme",
    "hoogsensitiviteit",
    "zelfbeeld",
    "perfectionisme",
    "suïcide",
]
HUGO_CONFIG = """\
baseURL = "https://www.praktijkdelinde.nl/"
languageCode = "nl"
title = "Praktijk De Linde"
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


def write(root: Path, count: int, seed: int = 48) -> tuple[Path, Path]:
    """Write ``count`` articles on TOPICS as a nieuwsbrief project and as a Hugo site."""
    rng = random.Random(seed)
    start = dt.datetime(2025, 11, 24, 8, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    start -= dt.timedelta(hours=7 * count)
    project, hugo = root / "nieuwsbrief", root / "hugo"
    (project / "articles").mkdir(parents=True)
    (hugo / "content" / "artikelen").mkdir(parents=True)
    (hugo / "layouts").mkdir()
    shutil.copy2(REPO / "schedule.yaml", project / "schedule.yaml")
    shutil.copytree(REPO / "templates", project / "templates")
    (hugo / "config.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    for number in range(count):
        data = article(rng, number, start)
        tags = rng.sample(TOPICS, k=rng.randint(1, 4))
        date: dt.datetime = data["date"]  # type: ignore[assignment]
        front = [
            f'title: "{data["title"]}"',
            f"date: {date.isoformat()}",
            "tags: [" + ", ".join(f'"{tag}"' for tag in tags) + "]",
            f"slug: {data['slug']}",
        ]
        if data["summary"]:
            front.append(f'summary: "{data["summary"]}"')
        text = "---\n" + "\n".join(front) + "\n---\n\n" + str(data["body"]) + "\n"
        name = f"{date:%Y-%m-%d}-{data['slug']}.md"
        (project / "articles" / name).write_text(text, encoding="utf-8")
        (hugo / "content" / "artikelen" / name).write_text(text, encoding="utf-8")
    return project, hugo


def timed(command: list[str], cwd: Path | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("hugo") is None:
        raise SystemExit("hugo is needed on PATH (apt-get install hugo)")
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="nieuwsbrief-topics-bench-") as tmp:
        root = Path(tmp)
        project, hugo = write(root, args.count)
        env_out = root / "out"
        full, unchanged, cat, hugo_times = [], [], [], []
        files = sorted(str(path) for path in (project / "articles").glob("*.md"))
        for _ in range(args.runs):
            shutil.rmtree(env_out, ignore_errors=True)
            shutil.rmtree(project / ".nieuwsbrief-cache", ignore_errors=True)
            build = [*NIEUWSBRIEF, "build", "-q", "-p", str(project), "-o", str(env_out)]
            full.append(timed([*build, "--now", NOW, "--no-cache"]))
            timed([*build, "--now", NOW])  # fills the cache
            unchanged.append(timed([*build, "--now", NOW]))
            cat.append(timed(["sh", "-c", 'cat "$@" > /dev/null', "cat", *files]))
            shutil.rmtree(hugo / "public", ignore_errors=True)
            hugo_times.append(timed(["hugo", "--quiet", "--source", str(hugo)]))
        written = sum(1 for path in env_out.rglob("*") if path.is_file())
        topic_count = len(json.loads((env_out / "tags" / "index.json").read_text())["topics"])
        hugo_feeds = sum(1 for _ in (hugo / "public").rglob("index.xml"))
    result = {
        "articles": args.count,
        "topics": topic_count,
        "runs": args.runs,
        "nieuwsbrief_full_s": round(median(full), 2),
        "nieuwsbrief_unchanged_s": round(median(unchanged), 2),
        "cat_s": round(median(cat), 3),
        "hugo_per_tag_rss_s": round(median(hugo_times), 2),
        "nieuwsbrief_files": written,
        "hugo_feeds": hugo_feeds,
        "load_average_start": round(load_start, 2),
        "load_average_end": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "hugo": subprocess.run(["hugo", "version"], capture_output=True, text=True).stdout.split()[
            1
        ],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "topics.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
