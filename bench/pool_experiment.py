"""Measure whether reading articles in a process pool pays off (it did not; see README).

.venv/bin/python bench/pool_experiment.py [ARTICLES]
"""

from __future__ import annotations

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


def load_chunk(paths: list[Path], site: SiteSettings) -> list[Article]:
    return [load_article(path, site) for path in paths]


def pooled(paths: list[Path], site: SiteSettings, workers: int) -> list[Article]:
    size = len(paths) // (workers * 4) + 1
    chunks = [paths[start : start + size] for start in range(0, len(paths), size)]
    with ProcessPoolExecutor(workers) as pool:
        parts = pool.map(load_chunk, chunks, [site] * len(chunks))
        return [article for part in parts for article in part]


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project, _ = write_corpus(Path(tmp), count)
        shutil.copy2(REPO / "schedule.yaml", project / "schedule.yaml")
        site = load_settings(project / "schedule.yaml").site
        paths = article_paths(project / "articles")
        for name, load in (
            ("one process", lambda: load_chunk(paths, site)),
            ("pool of 2", lambda: pooled(paths, site, 2)),
        ):
            times = []
            for _ in range(3):
                started = time.perf_counter()
                load()
                times.append(time.perf_counter() - started)
            print(f"{name}: {statistics.median(times):.3f} s for {count:,} articles")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
