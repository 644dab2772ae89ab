"""Measure whether a process pool speeds up parsing a corpus's articles (it decided: no).

    .venv/bin/python bench/pool.py 1000 10000

Parses every article of a generated corpus once in this process and once split over a
fork-based pool of ``os.cpu_count()`` workers, and prints the medians of three runs.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from corpus import write_corpus

from nieuwsbrief.articles import Article, article_paths, load_article
from nieuwsbrief.config import SiteSettings, load_settings

REPO = Path(__file__).resolve().parent.parent


def parse_all(paths: list[Path], site: SiteSettings) -> list[Article]:
    """Parse the articles at ``paths`` in order."""
    return [load_article(path, site) for path in paths]


def parse_pooled(paths: list[Path], site: SiteSettings) -> list[Article]:
    """Parse the articles at ``paths`` in a pool, in chunks, keeping their order."""
    workers = os.cpu_count() or 1
    size = -(-len(paths) // (workers * 4))
    chunks = [paths[start : start + size] for start in range(0, len(paths), size)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        parts = pool.map(parse_all, chunks, [site] * len(chunks))
        return [article for part in parts for article in part]


def median_seconds(parse: object, paths: list[Path], site: SiteSettings) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        parse(paths, site)  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    sizes = [int(size) for size in sys.argv[1:]] or [1000, 10_000]
    with tempfile.TemporaryDirectory(prefix="nieuwsbrief-pool-") as tmp:
        for size in sizes:
            project, _ = write_corpus(Path(tmp) / str(size), size)
            shutil.copy2(REPO / "schedule.yaml", project / "schedule.yaml")
            site = load_settings(project / "schedule.yaml").site
            paths = article_paths(project / "articles")
            assert parse_pooled(paths, site) == parse_all(paths, site)
            serial = median_seconds(parse_all, paths, site)
            pooled = median_seconds(parse_pooled, paths, site)
            print(
                f"{size:,} articles: one process {serial:.2f} s, "
                f"pool of {os.cpu_count()} {pooled:.2f} s"
            )


if __name__ == "__main__":
    main()
