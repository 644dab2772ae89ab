"""Check a project without writing anything: every error and every warning at once."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from nieuwsbrief.articles import (
    ARTICLES_DIR,
    SUMMARY_LIMIT,
    Article,
    body_warnings,
    folder_warnings,
    scan_articles,
)
from nieuwsbrief.config import SETTINGS_FILE, Settings, load_settings
from nieuwsbrief.errors import InputError, NieuwsbriefError
from nieuwsbrief.markup import first_paragraph_text

Severity = Literal["error", "warning"]
_HTTP_LINK = re.compile(r"""(?:href|src)="(http://[^"]+)\"""")


@dataclass(frozen=True)
class Problem:
    """One thing an editor should fix (error) or look at (warning)."""

    severity: Severity
    file: str
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: field '{self.field}'" if self.field else self.file
        return f"{self.severity}: {where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        """Return the problem as plain data for JSON output."""
        return asdict(self)


def _from_error(error: InputError) -> Problem:
    message = error.problem + (f" ({error.fix})" if error.fix else "")
    return Problem("error", str(error.path), error.field, message)


def _article_warnings(article: Article, now: dt.datetime) -> list[Problem]:
    path = str(article.source)
    warnings = []
    if not article.explicit_summary and len(first_paragraph_text(article.body)) > SUMMARY_LIMIT:
        warnings.append(
            Problem(
                "warning",
                path,
                "summary",
                f"no summary and the first paragraph is longer than {SUMMARY_LIMIT} characters, "
                "so the teaser is cut short; add a summary",
            )
        )
    if article.image and not article.image_alt:
        warnings.append(
            Problem("warning", path, "image_alt", "the image has no alt text; add image_alt")
        )
    if article.date > now and not article.draft:
        warnings.append(
            Problem(
                "warning",
                path,
                "date",
                f"is in the future ({article.date.isoformat()}); it is left out until then",
            )
        )
    if article.image and article.image.startswith("http://"):
        warnings.append(
            Problem(
                "warning",
                path,
                "image",
                f"{article.image} is loaded over http://, which mail clients may block; "
                "use https://",
            )
        )
    for url in sorted(set(_HTTP_LINK.findall(article.content_html))):
        warnings.append(
            Problem(
                "warning", path, "body", f"links to {url} over http://; use https:// if it works"
            )
        )
    return warnings


def _digest_warnings(
    settings: Settings, articles: list[Article], now: dt.datetime
) -> list[Problem]:
    """Render the site in memory and warn when the digest had to list articles by title only."""
    from nieuwsbrief.build import Site, render_site

    try:
        rendered = render_site(Site(settings, articles), now)
    except NieuwsbriefError as error:
        return [Problem("error", str(settings.project_dir / "templates"), None, str(error))]
    if rendered.digest is None or not rendered.digest.overflow:
        return []
    shown, overflow = len(rendered.digest.items), len(rendered.digest.overflow)
    limits = settings.digest
    path = str(settings.path)
    week = rendered.digest.week
    if shown < min(shown + overflow, limits.max_items):
        return [
            Problem(
                "warning",
                path,
                "digest.max_html_bytes",
                f"digest {week}: the HTML would pass {limits.max_html_bytes:,} bytes (Gmail clips "
                f"at about 102 KB), so {overflow} article(s) are listed by title only; add "
                "summaries, shorten them, or leave out images",
            )
        ]
    return [
        Problem(
            "warning",
            path,
            "digest.max_items",
            f"digest {week}: {overflow} article(s) past the {limits.max_items} shown in full are "
            "listed by title only; raise digest.max_items to show more",
        )
    ]


def check_project(project: Path, now: dt.datetime) -> list[Problem]:
    """Validate the settings and every article; return all problems, errors first."""
    try:
        settings = load_settings(project / SETTINGS_FILE)
    except InputError as error:
        return [_from_error(error)]
    now = settings.localize(now)
    articles, errors = scan_articles(project / ARTICLES_DIR, settings.site)
    problems = [_from_error(error) for error in errors]
    folder = folder_warnings(project / ARTICLES_DIR)
    problems += [Problem("warning", ARTICLES_DIR, None, warning) for warning in folder]
    for article in articles:
        path = str(article.source)
        problems += [Problem("warning", path, "body", w) for w in body_warnings(article)]
    for article in articles:
        problems.extend(_article_warnings(article, now))
    if not errors:
        problems.extend(_digest_warnings(settings, articles, now))
    return sorted(problems, key=lambda problem: (problem.severity != "error", problem.file))
