"""Idle CPU of `nieuwsbrief preview` on 10,000 articles: the polling watcher versus watchfiles.

Run from the repository, with the project's virtualenv (Linux: it reads /proc):

    .venv/bin/python bench/watch.py                  # 10,000 articles, 10 s idle
    .venv/bin/python bench/watch.py --articles 1000 --seconds 5

"before" runs the preview of the commit named by --before (the last one with the polling
watcher: a stat() of every source file every 0.5 s) from a `git archive` of its src/;
"after" runs this working tree's (watchfiles: the OS reports changes, nothing polls). Each
preview is started on a fresh copy of the same corpus, left to finish its first build and
its search for warnings, and then measured: the CPU time (user + system, all threads) the
process uses while nothing changes. A last check edits one article and times how long the
change takes to show in the served feed. Results go to bench/results/watch.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from corpus import write_corpus

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
BEFORE = "134f529568ce7f4ff83cb01d80d84f56c81349ad"  # main before watchfiles
NOW = "2025-11-24T09:00:00+01:00"
TICKS = os.sysconf("SC_CLK_TCK")
NOTE = """
Reading it: CPU time is counted in clock ticks of 0.01 s, so "0.01" is the smallest non-zero
reading. The polling watcher stat()s every source file every 0.5 s whatever happens; with
watchfiles the process sleeps until the OS reports a change. "An edit is served after" is
almost all the rebuild of 10,000 articles (the preview rebuilds everything, with the article
cache), checked once a second; the two runs ran one after the other on a machine shared with
another engineer's test runs, so the build times compare only roughly.
"""


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback http
        return str(response.read().decode("utf-8"))


def wait_for(
    condition: object, limit: float, what: str, log: Path | None = None, pause: float = 0.2
) -> float:
    assert callable(condition)
    start = time.monotonic()
    while not condition():
        if log is not None and "build failed" in log.read_text():
            raise SystemExit(f"{what}: a build failed; see {log}")
        if time.monotonic() - start > limit:
            raise SystemExit(f"gave up waiting for {what} after {limit:.0f} s")
        time.sleep(pause)
    return time.monotonic() - start


def measure(name: str, src: Path, project: Path, seconds: float) -> dict[str, float]:
    environment = {**os.environ, "PYTHONPATH": str(src), "PYTHONUNBUFFERED": "1"}
    log = project.parent / f"{name}.log"
    with log.open("w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "nieuwsbrief", "preview", "-p", str(project), "--port", "0",
             "--now", NOW],
            stdout=subprocess.PIPE, stderr=errors, text=True, env=environment,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            match = re.search(r"http://127\.0\.0\.1:\d+/", line)
            if not match:
                raise SystemExit(f"{name}: preview did not start: {line!r}; see {log}")
            url = match[0]
            started = time.monotonic()
            wait_for(lambda: "built " in log.read_text(), 900, f"{name}'s first build", log)
            if "build failed" in log.read_text():
                raise SystemExit(f"{name}: the first build failed; see {log}")
            first_build = time.monotonic() - started
            print(f"  first build done after {first_build:.0f} s", flush=True)
            # The home page lists every article: ask for it seldom, not to load the server.
            wait_for(
                lambda: "worden nog gezocht" not in fetch(url),
                1800,
                f"{name}'s warning search",
                pause=3.0,
            )
            print("  warnings found; measuring", flush=True)
            time.sleep(1.0)  # let the last page render settle
            cpu_before, clock_before = cpu_seconds(process.pid), time.monotonic()
            time.sleep(seconds)
            cpu = cpu_seconds(process.pid) - cpu_before
            wall = time.monotonic() - clock_before
            # One change, to show the watcher still works: the home page lists every article.
            article = sorted((project / "articles").glob("*.md"))[-1]
            text = article.read_text("utf-8")
            article.write_text(re.sub(r'title: ".*"', 'title: "Gewijzigd"', text, count=1), "utf-8")
            seen = wait_for(
                lambda: "Gewijzigd" in fetch(url), 900, f"{name}'s rebuild", log, pause=1.0
            )
            return {"first_build": first_build, "cpu": cpu, "wall": wall, "change_seen": seen}
        finally:
            process.terminate()
            process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--before", default=BEFORE, help="commit with the polling watcher")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="nieuwsbrief-watch-") as tmp:
        root = Path(tmp)
        corpus, _ = write_corpus(root / "corpus", options.articles)
        shutil.copy2(REPO / "schedule.yaml", corpus / "schedule.yaml")
        shutil.copytree(REPO / "templates", corpus / "templates")
        old = root / "before"
        old.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", options.before, "src", "schedule.yaml",
             "templates"],
            capture_output=True, check=True,
        )  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        for name, src, watcher in (
            ("before", old / "src", f"polling every 0.5 s ({options.before[:8]})"),
            ("after", REPO / "src", "watchfiles (this tree)"),
        ):
            project = root / name / "project"
            shutil.copytree(corpus, project)
            print(f"{name}: {watcher} ...", flush=True)
            result = measure(name, src, project, options.seconds)
            print(f"  {result}", flush=True)
            rows.append((name, watcher, result))
    lines = [
        "# Idle CPU of `nieuwsbrief preview`",
        "",
        f"`bench/watch.py`: {options.articles:,} articles, measured for {options.seconds:.0f} s "
        "after the first build and the search for warnings, with nothing changing. CPU is user + "
        "system time of the whole preview process (all threads), from /proc; "
        f"Python {platform.python_version()}, {os.cpu_count()} cores, shared with other work.",
        "",
        "| watcher | first build (s) | idle CPU (s) in the window | idle CPU share of one core "
        "| an edit is served after (s) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, watcher, result in rows:
        share = result["cpu"] / result["wall"]
        lines.append(
            f"| {name}: {watcher} | {result['first_build']:.1f} | {result['cpu']:.2f} "
            f"| {share:.1%} | {result['change_seen']:.1f} |"
        )
    lines += NOTE.rstrip("\n").split("\n")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "watch.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
