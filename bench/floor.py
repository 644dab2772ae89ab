"""The least work any cold build of a project must do, timed as a process of its own.

    .venv/bin/python bench/floor.py start PROJECT      # interpreter and the CLI's imports
    .venv/bin/python bench/floor.py markdown PROJECT   # + load every article, render the published

``bench/speed.py`` runs both beside a real cold build and Hugo, in the same rounds. Every
feed carries each published article's full text, so a cold build reads and validates every
article and renders each published body's Markdown at least once (the build renders it
exactly once: ``Article.content_html`` is kept). What the ``markdown`` floor takes, no change
to the rest of the pipeline can take away; its ratio to Hugo bounds the cold build's ratio
from below (docs/performance.md, "Floors").
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

NOW = "2025-11-24T09:00:00+01:00"


def main() -> None:
    what, project = sys.argv[1], Path(sys.argv[2])
    import nieuwsbrief.cli  # noqa: F401  (what every command imports before it runs)

    if what == "start":
        return
    from nieuwsbrief.build import load_site
    from nieuwsbrief.select import published

    site = load_site(project, cache=False)
    now = site.settings.localize(dt.datetime.fromisoformat(NOW))
    rendered = sum(len(article.content_html) for article in published(site.articles, now))
    if not rendered:
        raise SystemExit("no published article rendered: not a floor of anything")


if __name__ == "__main__":
    main()
