"""Time the worst article bodies we can generate, up to the article size limit.

Each case runs in its own process (for an honest peak RSS): the pre-parse limit check
(``body_problem``), then, if the body is accepted, Markdown rendering and sanitizing
(``render_markdown``). Usage:

    python bench/worst_bodies.py [--size BYTES] [--timeout SECONDS] [--out FILE.md]

Results go to bench/results/worst-bodies.md (and stdout). Not a test: timings depend on
the machine and its load, which the report records.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from nieuwsbrief.articles import MAX_ARTICLE_BYTES
from nieuwsbrief.markup import MAX_HTML_DEPTH, MAX_MARKDOWN_DEPTH, MAX_MARKUP

NOTES = """
## Reading the table

- Every accepted body renders in under 2 s at the 2 MB size limit, on 2 CPUs shared with
  other jobs (load 3-8): the worst are markup at the 8,000-piece budget (references, tables,
  links: 1-1.6 s) and quotes at the nesting budget (~1 s). Plain prose costs little
  (2 MB of words: ~0.35 s). Peak memory stays under 100 MB.
- Refused bodies are refused by the linear limit scan in at most ~0.5 s (2 MB of `[`),
  before any parser runs. Without the limits (first measurements, same machine):
  200 KB of 32-deep quotes took 16 s, of small tables 13.5 s, of `*_` 16 s, 100 KB of `[`
  over 30 s, and 80,000 nested `<div>`s 11 s in nh3.
- A build also renders feeds and the digest, and `check` compares visible text before
  and after sanitizing; both are linear in the rendered HTML.
- Through the CLI, a project of three 2 MB articles at the budgets (tables, links, deep
  quotes; load 2.6): `build --no-cache` 3.8 s and 121 MB, `check` 5.5 s and 118 MB, so
  about 1.3 s and 1.8 s per article.
"""


def cases(size: int) -> dict[str, str]:
    """Return generated bodies of about ``size`` characters, by name."""

    def fill(unit: str) -> str:
        return unit * max(1, size // len(unit))

    deep_ok = "<div>" * MAX_HTML_DEPTH + "x" + "</div>" * MAX_HTML_DEPTH + "\n"
    quotes_ok = "> " * MAX_MARKDOWN_DEPTH + "diep\n\n"
    lists_ok = "\n".join("  " * level + "- punt" for level in range(MAX_MARKDOWN_DEPTH)) + "\n\n"
    return {
        "divs-nested-80k (refused)": "<div>" * 80_000,
        "divs-nested-to-size (refused)": fill("<div>"),
        "divs-at-depth-limit-repeated": fill(deep_ok),
        "divs-at-depth-limit-then-prose": (deep_ok * 60 + fill("woord "))[:size],
        "blockquotes-at-limit-repeated": fill(quotes_ok),
        "lists-at-limit-repeated": fill(lists_ok),
        "quotes-at-nesting-budget": (("> " * 32 + "diep\n\n") * 195 + fill("woord "))[:size],
        "inline-html-at-markup-limit": ("<b>x</b> " * (MAX_MARKUP // 2 - 10) + fill("woord "))[
            :size
        ],
        "references-at-markup-limit": ("&#1; &amp; " * (MAX_MARKUP // 2 - 10) + fill("woord "))[
            :size
        ],
        "one-long-line-of-words": fill("woord "),
        "one-paragraph-of-links": fill("[link](https://example.nl/pad) "),
        "paragraphs-of-links": fill("[link](https://example.nl/pad) " * 40 + "\n\n"),
        "many-small-tables": fill("| a | b |\n|---|---|\n| c | d |\n\n"),
        "tables-at-markup-limit": (
            "| a | b |\n|---|---|\n" + "| c | d |\n" * (MAX_MARKUP // 3 - 10) + fill("woord ")
        )[:size],
        "one-long-table": "| a | b |\n|---|---|\n" + fill("| c | d |\n"),
        "emphasis-markers": fill("*a **b _c __d "),
        "emphasis-alternating": fill("*_"),
        "emphasis-at-markup-limit": ("*_" * (MAX_MARKUP // 2 - 10) + "\n\n" + fill("woord "))[
            :size
        ],
        "links-at-markup-limit": (
            "[link](https://example.nl/pad) " * (MAX_MARKUP // 2 - 10) + fill("woord ")
        )[:size],
        "unmatched-brackets-1400-per-paragraph (refused)": fill("[" * 1400 + "\n\n"),
        "unmatched-brackets-1000-once": "[" * 1000 + "\n\n" + fill("woord "),
        "unmatched-brackets-to-size (refused)": fill("["),
        "backticks": fill("`a`` "),
        "inline-html-tags": fill("<b>x</b> <i>y</i> <span>z</span> "),
        "raw-text-tags-in-prose": fill("Met de <style> tag en <script> en <textarea> "),
        "entities-and-illegal-references": fill("&#1; &amp; &#xD800; &lt; &#0; "),
        "html-block-lines": fill("<p>alinea</p>\n"),
        "unclosed-comment-then-prose": ("<!-- open\n\n" + fill("woord "))[:size],
        "unclosed-attributes-in-blocks": (
            ('<div title="x\n\n' + "woord " * 100 + "\n\n") * 3000 + fill("woord ")
        )[:size],
        "headings-with-ids": fill("## Kop\n\n[terug](#kop)\n\n"),
    }


def run_one(name: str, size: int) -> dict[str, object]:
    import resource

    from nieuwsbrief.markup import body_problem, render_markdown

    body = cases(size)[name]
    started = time.perf_counter()
    problem = body_problem(body)
    checked = time.perf_counter() - started
    rendered = 0.0
    if problem is None:
        started = time.perf_counter()
        render_markdown(body, "https://voorbeeld.example.nl/artikelen/proef/")
        rendered = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "case": name,
        "bytes": len(body.encode()),
        "check_s": round(checked, 3),
        "render_s": round(rendered, 3),
        "refused": problem is not None,
        "peak_mb": round(peak, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=MAX_ARTICLE_BYTES - 1000)
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "worst-bodies.md"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.size)))
        return
    rows = []
    for name in cases(1000):
        command = [sys.executable, __file__, "--one", name, "--size", str(args.size)]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=args.timeout, check=True
            )
            row = json.loads(done.stdout)
        except subprocess.TimeoutExpired:
            row = {
                "case": name,
                "bytes": None,
                "check_s": None,
                "render_s": f">{args.timeout:.0f}",
                "refused": None,
                "peak_mb": None,
            }
        print(row, flush=True)
        rows.append(row)
    load = os.getloadavg()
    lines = [
        "# Worst article bodies",
        "",
        f"`python bench/worst_bodies.py --size {args.size}` on {os.cpu_count()} CPUs, "
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end "
        f"(Python {sys.version.split()[0]}). check = the linear limit scan before parsing; "
        "render = markdown-it + nh3 + tree pass. Peak = the process's max RSS.",
        "",
        "| case | bytes | check s | render s | refused | peak MB |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['case']} | {row['bytes']} | {row['check_s']} | {row['render_s']} | "
            f"{row['refused']} | {row['peak_mb']} |"
        )
    args.out.write_text("\n".join(lines) + "\n" + NOTES, encoding="utf-8")


if __name__ == "__main__":
    main()
