"""Run the whole pipeline: settings and articles in, feeds and digests written atomically."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nieuwsbrief.articles import ARTICLES_DIR, Article, Progress, folder_warnings, load_articles
from nieuwsbrief.config import SETTINGS_FILE, Settings, load_settings
from nieuwsbrief.errors import NieuwsbriefError
from nieuwsbrief.output import claim, publish_claimed
from nieuwsbrief.schedule import Window, latest_send_moment, send_moment_in_week, window_ending_at
from nieuwsbrief.select import digest_articles, feed_articles, published

if TYPE_CHECKING:
    from nieuwsbrief.digest import Digest


@dataclass
class Site:
    """Settings and every article of one project, loaded and validated."""

    settings: Settings
    articles: list[Article]
    warnings: list[str] = field(default_factory=list)


@dataclass
class Rendered:
    """Every output file of a build, in memory, and what the editor should know."""

    files: dict[str, bytes]
    warnings: list[str] = field(default_factory=list)
    digest: Digest | None = None

    @property
    def digest_week(self) -> str | None:
        """Return the ISO week of the digest this build wrote, if it wrote one."""
        return self.digest.week if self.digest else None


@dataclass
class BuildResult:
    """What a build wrote and what the editor should know about it."""

    out: Path
    files: dict[str, int]
    published: list[Article]
    digest_week: str | None
    warnings: list[str] = field(default_factory=list)


def load_site(project: Path, progress: Progress | None = None, *, cache: bool = False) -> Site:
    """Load and validate ``schedule.yaml`` and ``articles/`` of a project folder.

    With ``cache``, unchanged articles come from ``.nieuwsbrief-cache/`` in the project.
    """
    from nieuwsbrief.cache import ArticleCache

    settings = load_settings(project / SETTINGS_FILE)
    article_cache = ArticleCache(project, settings.site) if cache else None
    articles = load_articles(project / ARTICLES_DIR, settings.site, progress, article_cache)
    warnings = folder_warnings(project / ARTICLES_DIR)
    if article_cache is not None:
        article_cache.save()
        warnings.extend(article_cache.warnings)
    return Site(settings, articles, warnings)


def digest_window(settings: Settings, now: dt.datetime, week: str | None = None) -> Window:
    """Return the window of the digest for ``week``, or of the latest send moment at ``now``."""
    if week is None:
        return window_ending_at(settings.digest, latest_send_moment(settings.digest, now))
    try:
        return window_ending_at(settings.digest, send_moment_in_week(settings.digest, week))
    except ValueError as exc:
        raise NieuwsbriefError(f"--digest-week: {exc}") from None


def render_site(
    site: Site,
    now: dt.datetime,
    *,
    digest_week: str | None = None,
    archive: Sequence[dict[str, Any]] = (),
) -> Rendered:
    """Render every output file in memory, by path relative to the output folder."""
    from nieuwsbrief.digest import DIGESTS_DIR, render_archive, render_digest
    from nieuwsbrief.feeds import render_feeds

    settings = site.settings
    rendered = Rendered(
        files=dict(render_feeds(settings, feed_articles(site.articles, now, settings.feeds.limit)))
    )
    window = digest_window(settings, now, digest_week)
    articles = digest_articles(site.articles, window, now)
    if window.end.astimezone(dt.UTC) > now.astimezone(dt.UTC):
        # A --digest-week still to come: articles dated after --now are not published yet.
        rendered.warnings.append(
            f"digest {window.week} goes out at {window.end.isoformat()}, after --now "
            f"({now.isoformat()}): it holds only the articles published by --now"
        )
    manifests = {manifest["week"]: manifest for manifest in archive}
    if articles or settings.digest.empty_week == "send":
        digest, warnings = render_digest(settings, window, articles)
        rendered.files.update(digest.files())
        rendered.warnings.extend(warnings)
        rendered.digest = digest
        manifests[digest.week] = digest.manifest
    else:
        rendered.warnings.append(
            f"no digest for {window.week}: no articles were published between "
            f"{window.start.isoformat()} and {window.end.isoformat()}"
        )
    rendered.files[f"{DIGESTS_DIR}/index.html"] = render_archive(settings, list(manifests.values()))
    return rendered


def build(
    project: Path,
    out: Path,
    now: dt.datetime,
    *,
    digest_week: str | None = None,
    progress: Progress | None = None,
    cache: bool = True,
) -> BuildResult:
    """Build the project into ``out``; on any error ``out`` keeps its previous contents."""
    from nieuwsbrief.digest import DIGESTS_DIR, read_manifests

    site = load_site(project, progress, cache=cache)
    now = site.settings.localize(now)
    # Read the old digests under the lock, so a build that finishes meanwhile is not lost
    # from the archive.
    with claim(out) as target:
        rendered = render_site(site, now, digest_week=digest_week, archive=read_manifests(target))
        publish_claimed(target, rendered.files, keep=(DIGESTS_DIR,))
    return BuildResult(
        out=out,
        files={name: len(data) for name, data in sorted(rendered.files.items())},
        published=published(site.articles, now),
        digest_week=rendered.digest_week,
        warnings=[*site.warnings, *rendered.warnings],
    )
