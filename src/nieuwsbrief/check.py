"""Check a project without writing anything: every error and every warning at once."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from nieuwsbrief.articles import (
    ARTICLES_DIR,
    SUMMARY_LIMIT,
    Article,
    body_warnings,
    date_errors,
    scan_articles,
    scan_folder,
)
from nieuwsbrief.config import SETTINGS_FILE, Settings, load_settings
from nieuwsbrief.errors import (
    InputError,
    InvalidSettings,
    NieuwsbriefError,
    TemplateError,
    local_time,
    quote,
)
from nieuwsbrief.mail import one_click_problem
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
        # The field can be the editor's own text (an unknown key): quoted like every value.
        where = f"{self.file}: field {quote(self.field)}" if self.field else self.file
        return f"{self.severity}: {where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        """Return the problem as plain data for JSON output."""
        return asdict(self)


def _from_errors(error: InputError) -> list[Problem]:
    if isinstance(error, InvalidSettings):
        return [_from_error(one) for one in error.errors]
    return [_from_error(error)]


def _from_error(error: InputError) -> Problem:
    message = error.problem + (f" ({error.fix})" if error.fix else "")
    return Problem("error", str(error.path), error.field, message)


def _article_warnings(article: Article, now: dt.datetime, zone: ZoneInfo) -> list[Problem]:
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
    if not article.explicit_summary and not first_paragraph_text(article.body):
        warnings.append(
            Problem(
                "warning",
                path,
                "summary",
                "the article has no paragraph, list or quote to make a teaser from, so feeds "
                "show the title as its summary; add a summary or some text",
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
                f"is in the future ({local_time(article.date, zone)}); it is left out until then",
            )
        )
    if article.image and article.image.startswith("http://"):
        warnings.append(
            Problem(
                "warning",
                path,
                "image",
                f"{quote(article.image)} is loaded over http://, which mail clients may block; "
                "use https://",
            )
        )
    for url in sorted(set(_HTTP_LINK.findall(article.content_html))):
        warnings.append(
            Problem(
                "warning",
                path,
                "body",
                f"links to {quote(url)} over http://; use https:// if it works",
            )
        )
    return warnings


def _digest_warnings(
    settings: Settings, articles: list[Article], now: dt.datetime
) -> list[Problem]:
    """Render the site in memory, as build would, and report what breaks it.

    In a week without articles build writes no digest, but the next week's build will: render
    one anyway, with the newest published articles as a sample, so that a broken template,
    subject or header is found now. Warn when the digest had to list articles by title only.
    """
    from nieuwsbrief.build import Site, digest_window, render_site
    from nieuwsbrief.digest import render_digest
    from nieuwsbrief.select import published
    from nieuwsbrief.templating import TEMPLATES_DIR

    try:
        rendered = render_site(Site(settings, articles), now)
        if rendered.digest is None:
            sample = published(articles, now)[: settings.digest.max_items]
            render_digest(settings, digest_window(settings, now), sample)
    except TemplateError as error:
        where = f"line {error.line}: " if error.line else ""
        return [Problem("error", error.template, None, where + error.problem)]
    except NieuwsbriefError as error:
        templates = str(settings.project_dir / TEMPLATES_DIR)
        head, colon, rest = str(error).partition(": ")
        if colon and head.startswith(templates):  # the message names the file already
            return [Problem("error", head, None, rest)]
        return [Problem("error", templates, None, str(error))]
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


def check_project(
    project: Path, now: dt.datetime, held_back: list[Article] | None = None
) -> list[Problem]:
    """Validate the settings and every article; return all problems, errors first.

    Drafts and articles dated after ``now`` are appended to ``held_back`` when given.
    """
    try:
        settings = load_settings(project / SETTINGS_FILE)
    except InputError as error:
        return _from_errors(error)
    now = settings.localize(now)
    from nieuwsbrief.scaffold import example_warnings, placeholder_warnings

    examples = [
        Problem("warning", str(settings.path), *found) for found in example_warnings(settings.raw)
    ]
    folder = scan_folder(project / ARTICLES_DIR)
    articles, errors = scan_articles(project / ARTICLES_DIR, settings.site, folder=folder)
    problems = [_from_error(error) for error in errors] + examples
    one_click = one_click_problem(settings.digest)
    if one_click:
        problems.append(Problem("warning", str(settings.path), "digest.unsubscribe_url", one_click))
    problems.extend(_from_error(error) for error in date_errors(articles, now))
    if held_back is not None:
        held_back.extend(a for a in articles if a.draft or a.date.astimezone(dt.UTC) > now)
    problems += [Problem("warning", ARTICLES_DIR, None, warning) for warning in folder.warnings]
    for article in articles:
        path = str(article.source)
        problems += [Problem("warning", path, "body", w) for w in body_warnings(article)]
        if not article.draft:  # a draft is still being written; what goes out must not say so
            problems += [
                Problem("warning", path, "body", w) for w in placeholder_warnings(article.body)
            ]
        problems.extend(_article_warnings(article, now, settings.site.timezone))
    from nieuwsbrief.topics import topic_warnings

    problems.extend(Problem("warning", *found) for found in topic_warnings(settings, articles))
    if not errors and not date_errors(articles, now):
        problems.extend(_digest_warnings(settings, articles, now))
    return sorted(problems, key=lambda problem: (problem.severity != "error", problem.file))
