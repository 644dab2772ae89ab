"""Worst cases of hostile YAML: how long nieuwsbrief takes and how much memory it uses.

Each generated input (deep nesting, aliases, long lines, huge numbers, many keys) is put
into a copy of the example project, as an article's front matter or as schedule.yaml, and
built through the CLI in a fresh Python process. The script records wall time, the peak
resident memory of that process, the exit code and the size of what it printed.

Run from the repository, with the project's virtualenv (about 1 minute on 2 cores):

    .venv/bin/python bench/worst_cases.py

It writes bench/results/worst-cases.md. These are measurements, not timed tests: the test
suite checks the refusals themselves (tests/bad_inputs, tests/test_properties.py).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
NOW = "2025-11-24T09:00:00+01:00"
ARTICLE = "2025-11-20-worst.md"
TIMEOUT = 120  # seconds; a case that takes longer is recorded as a timeout
SETTINGS = (REPO / "schedule.yaml").read_text("utf-8")

# Runs the CLI in-process and reports its own peak memory, so numbers are per input.
RUNNER = """
import json, resource, sys, time
from nieuwsbrief.cli import cli
started = time.perf_counter()
try:
    cli(sys.argv[2:], prog_name="nieuwsbrief")
    code = 0
except SystemExit as exit:
    code = exit.code if isinstance(exit.code, int) else 1
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
with open(sys.argv[1], "w") as report:
    json.dump({"code": code, "seconds": seconds, "peak_mib": peak}, report)
"""


def front(body: str) -> str:
    return f"---\ntitle: Worst\ndate: 2025-11-20\n{body}\n---\n\nTekst.\n"


def alias_bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        refs = ", ".join([f"*a{n - 1}"] * 9)
        lines.append(f"a{n}: &a{n} [{refs}]")
    return "\n".join(lines)


def block_nesting(depth: int) -> str:
    return "\n".join("  " * n + "a:" for n in range(depth)) + " x"


def settings_with(extra: str) -> str:
    return SETTINGS.replace("feeds:\n  limit: 20", "feeds:\n  limit: 20\n" + extra)


CASES: list[tuple[str, str, Callable[[], str]]] = [
    ("front matter", "a valid article (baseline)", lambda: front("summary: Kort.")),
    ("front matter", "alias bomb, 9 levels (9^9 = 387M items)", lambda: front(alias_bomb(9))),
    ("front matter", "flow nesting, depth 25", lambda: front("tags: " + "[" * 25 + "]" * 25)),
    (
        "front matter",
        "flow nesting, depth 900,000 (1.8 MB)",
        lambda: front("tags: " + "[" * 900_000 + "]" * 900_000),
    ),
    ("front matter", "block nesting, depth 1,000", lambda: front(block_nesting(1000))),
    (
        "front matter",
        "quoted value, 1.9 MB on one line",
        lambda: front(f'summary: "{"x" * 1_900_000}"'),
    ),
    (
        "front matter",
        "plain value, 1.9 MB on one line",
        lambda: front(f"summary: {'x' * 1_900_000}"),
    ),
    ("front matter", "number, 5,000 digits", lambda: front("draft: " + "9" * 5000)),
    ("front matter", "number, 1,900,000 digits", lambda: front("draft: " + "9" * 1_900_000)),
    (
        "front matter",
        "100,000 keys",
        lambda: front("\n".join(f"k{n}: {n}" for n in range(100_000))),
    ),
    (
        "front matter",
        "200,000 tags",
        lambda: front("tags: [" + ", ".join(f"t{n}" for n in range(200_000)) + "]"),
    ),
    (
        "front matter",
        "4,900 tags (over the 30 an article may have)",
        lambda: front("tags: [" + ", ".join(f"t{n}" for n in range(4_900)) + "]"),
    ),
    (
        "front matter",
        "30 tags (the limit: accepted)",
        lambda: front("tags: [" + ", ".join(f"t{n}" for n in range(30)) + "]"),
    ),
    (
        "schedule.yaml",
        "2,400 unknown keys (10 named, the rest counted)",
        lambda: settings_with("\n".join(f"  k{n}: 1" for n in range(2400))),
    ),
    (
        "schedule.yaml",
        "alias bomb, 9 levels",
        lambda: settings_with("  " + alias_bomb(9).replace("\n", "\n  ")),
    ),
    (
        "schedule.yaml",
        "flow nesting, depth 40,000",
        lambda: settings_with("  x: " + "[" * 40_000 + "]" * 40_000),
    ),
    (
        "schedule.yaml",
        "number, 90,000 digits",
        lambda: SETTINGS.replace("limit: 20", "limit: " + "9" * 90_000),
    ),
    (
        "schedule.yaml",
        "5,000 unknown keys",
        lambda: settings_with("\n".join(f"  k{n}: 1" for n in range(5000))),
    ),
    ("schedule.yaml", "file of 5 MB", lambda: settings_with("  # " + "x" * 5_000_000)),
]


def run_case(kind: str, make: Callable[[], str]) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder) / "project"
        project.mkdir()
        shutil.copy2(REPO / "schedule.yaml", project / "schedule.yaml")
        shutil.copytree(REPO / "articles", project / "articles")
        shutil.copytree(REPO / "templates", project / "templates")
        text = make()
        target = project / ("schedule.yaml" if kind == "schedule.yaml" else f"articles/{ARTICLE}")
        target.write_text(text, encoding="utf-8")
        report = Path(folder) / "report.json"
        started = time.perf_counter()
        try:
            process = subprocess.run(
                [sys.executable, "-c", RUNNER, str(report), "build", "-p", str(project),
                 "-o", str(Path(folder) / "out"), "--now", NOW, "--no-cache"],
                capture_output=True, text=True, timeout=TIMEOUT, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return {"code": f"killed after {TIMEOUT} s", "input_bytes": len(text.encode()),
                    "output_bytes": 0, "traceback": False, "message": ""}  # fmt: skip
        wall = time.perf_counter() - started
        result = json.loads(report.read_text()) if report.exists() else {"code": process.returncode}
        output = process.stdout + process.stderr
        problem = next(
            (line for line in output.splitlines() if "worst" in line or "schedule" in line), ""
        )
        return {
            **result,
            "input_bytes": len(text.encode("utf-8")),
            "process_seconds": wall,
            "output_bytes": len(output.encode("utf-8")),
            "traceback": "Traceback" in output,
            "message": re.sub(r"^.*?(schedule\.yaml|\.md): ", "", problem)[:110],
        }


def main() -> None:
    rows = []
    for kind, label, make in CASES:
        row = run_case(kind, make)
        rows.append((kind, label, row))
        print(f"{kind:14} {label:45} exit {row['code']} {row.get('seconds', 0):.2f} s "
              f"{row.get('peak_mib', 0):.0f} MiB  {row['message'][:60]}", flush=True)  # fmt: skip
    load = os.getloadavg()[0]
    lines = [
        "# Worst cases of hostile YAML",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()}; load average (1 min) at the end: {load:.1f}.",
        "Generated by `bench/worst_cases.py`: each input is built through the CLI in a fresh",
        "process; *time* is the CLI call itself, *peak* the process's peak resident memory",
        "(compare with the first row, a valid article).",
        "",
        "Before this change (issue report): a 445-byte alias bomb took 7.5 s and 2.1 GB and "
        "printed a 312 MB error message.",
        "",
        "| file | input | bytes | exit | time | peak | printed | message |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for kind, label, row in rows:
        message = str(row["message"]).replace("|", "\\|")
        lines.append(
            f"| {kind} | {label} | {row['input_bytes']:,} | {row['code']} | "
            f"{row.get('seconds', 0):.2f} s | {row.get('peak_mib', 0):.0f} MiB | "
            f"{row['output_bytes']:,} B | {message} |"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "worst-cases.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert not any(row["traceback"] for _, _, row in rows), "a worst case ended in a traceback"


if __name__ == "__main__":
    main()
