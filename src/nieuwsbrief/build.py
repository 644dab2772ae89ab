"""Run the whole pipeline: settings and articles in, feeds and digests written atomically."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from nieuwsbrief.articles import ARTICLES_DIR, Article, load_articles
from nieuwsbrief.config import SETTINGS_FILE, Settings, load_settings
from nieuwsbrief.feeds import render_feeds
from nieuwsbrief.output import publish
from nieuwsbrief.select import feed_articles, published

DEFAULT_OUT = "public"


@dataclass
class Site:
    """Settings and every article of one project, loaded and validated."""

    settings: Settings
    articles: list[Article]


@dataclass
class BuildResult:
    """What a build wrote and what the editor should know about it."""

    out: Path
    files: dict[str, int]
    published: list[Article]
    warnings: list[str] = field(default_factory=list)


def load_site(project: Path) -> Site:
    """Load and validate ``schedule.yaml`` and ``articles/`` of a project folder."""
    settings = load_settings(project / SETTINGS_FILE)
    return Site(settings, load_articles(project / ARTICLES_DIR, settings.site))


def render_site(site: Site, now: dt.datetime) -> tuple[dict[str, bytes], list[str]]:
    """Render every output file in memory; return them by relative path, plus warnings."""
    settings = site.settings
    files = dict(render_feeds(settings, feed_articles(site.articles, now, settings.feeds.limit)))
    warnings: list[str] = []
    return files, warnings


def build(project: Path, out: Path, now: dt.datetime) -> BuildResult:
    """Build the project into ``out``; on any error ``out`` keeps its previous contents."""
    site = load_site(project)
    files, warnings = render_site(site, now)
    publish(out, files, keep=("digests",))
    return BuildResult(
        out=out,
        files={name: len(data) for name, data in sorted(files.items())},
        published=published(site.articles, now),
        warnings=warnings,
    )
