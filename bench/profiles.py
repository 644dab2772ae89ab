"""Profile a cold and an unchanged 10,000-article build in-process; write where time goes.

    .venv/bin/python bench/profiles.py --label after          # writes results/profile-after.md
    PYTHONPATH=/path/to/old/src .venv/bin/python bench/profiles.py --label before

Builds the bench/realistic.py corpus: a cold build (no cache, empty --out), then rebuilds
with the cache until one stops by stat (loads no article) or four ran, profiling the cold
one and the last one with cProfile (which slows Python-heavy code, so the totals are above
bench/speed.py's).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import shutil
import tempfile
import time
from pathlib import Path

import realistic

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
NOW = dt.datetime.fromisoformat("2025-11-24T09:00:00+01:00")


def profiled(project: Path, out: Path, cache: bool) -> tuple[float, str]:
    from nieuwsbrief.build import build

    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    build(project, out, NOW, cache=cache)
    profile.disable()
    elapsed = time.perf_counter() - started
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("cumulative").print_stats(r"nieuwsbrief|feedgen|markdown_it|jinja2|posix", 25)
    lines = [line for line in text.getvalue().splitlines() if line.strip()]
    start = next(index for index, line in enumerate(lines) if "ncalls" in line)
    return elapsed, "\n".join(lines[start:])


def main() -> None:
    import nieuwsbrief

    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--label", required=True)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="nieuwsbrief-profile-") as tmp:
        root = Path(tmp)
        project = realistic.write(root, args.count, NOW)["nieuwsbrief"]
        shutil.copy2(REPO / "schedule.yaml", project / "schedule.yaml")
        shutil.copytree(REPO / "templates", project / "templates")
        out = root / "out"
        cold_time, cold = profiled(project, out, cache=False)
        timings = []
        # The first rebuild confirms the cold one (renders, writes nothing), the next stops
        # by key and records the stat signature, the one after stops by stat: the unchanged
        # rebuild an editor gets. Each is at least 2 s after the last (the racy margin).
        for _ in range(4):
            time.sleep(2.1)
            warm_time, warm = profiled(project, out, cache=True)
            timings.append(round(warm_time, 2))
            if "load_site" not in warm:
                break
    load_after = os.getloadavg()[0]
    text = [
        f"# Profile of {args.count:,} articles: {args.label}",
        "",
        f"`bench/profiles.py --label {args.label}`, code from",
        f"`{Path(nieuwsbrief.__file__).parent}`;",
        f"load {load_before:.2f} → {load_after:.2f}"
        + (" (above 1.5: all times inflated)" if max(load_before, load_after) > 1.5 else "")
        + ". cProfile slows Python code about twofold.",
        "",
        f"## Cold build (no cache, empty --out): {cold_time:.1f} s under the profiler",
        "",
        "```",
        cold,
        "```",
        "",
        f"## Rebuild with nothing changed: {warm_time:.1f} s under the profiler",
        "",
        f"Rebuilds with the cache, in order: {timings} s; the last is profiled.",
        "",
        "```",
        warm,
        "```",
    ]
    destination = BENCH / "results" / f"profile-{args.label}.md"
    destination.write_text("\n".join(text) + "\n", encoding="utf-8")
    print(destination)


if __name__ == "__main__":
    main()
