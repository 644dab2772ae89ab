"""Create new projects and new article files for editors."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from nieuwsbrief.articles import ARTICLES_DIR, slugify
from nieuwsbrief.config import SETTINGS_FILE
from nieuwsbrief.errors import NieuwsbriefError

TEMPLATES_DIR = "templates"

WELCOME_ARTICLE = """\
---
title: "Welkom bij onze nieuwsbrief"
date: {date}
summary: "Elke week de nieuwste artikelen van onze psychologen in uw mailbox."
tags: [praktijk]
---

Fijn dat u er bent. In deze nieuwsbrief delen we elke week wat onze psychologen schreven
over psychische gezondheid: over somberheid, angst, slapen, werk en relaties.

## Wat u kunt verwachten

- Korte, heldere artikelen.
- Praktische tips die u meteen kunt gebruiken.
- Informatie over hoe een behandeling bij ons verloopt.
"""


def skeleton_dir() -> Path:
    """Return the folder holding the default schedule.yaml and templates.

    A wheel carries them inside the package (see pyproject.toml); an editable install or a
    source checkout uses the repository's own top-level files.
    """
    packaged = Path(__file__).parent / "skeleton"
    checkout = Path(__file__).resolve().parents[2]
    for candidate in (packaged, checkout):
        if (candidate / SETTINGS_FILE).is_file() and (candidate / TEMPLATES_DIR).is_dir():
            return candidate
    raise NieuwsbriefError(
        f"the default project files are missing from {packaged}; reinstall nieuwsbrief"
    )


def init_project(destination: Path, today: dt.date) -> list[Path]:
    """Create a project with settings, templates and one article; refuse to overwrite."""
    source = skeleton_dir()
    targets = [destination / SETTINGS_FILE, destination / TEMPLATES_DIR]
    existing = [path for path in targets if path.exists()]
    if existing:
        raise NieuwsbriefError(
            f"{existing[0]} already exists; 'nieuwsbrief init' only creates new projects"
        )
    (destination / ARTICLES_DIR).mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / SETTINGS_FILE, destination / SETTINGS_FILE)
    shutil.copytree(source / TEMPLATES_DIR, destination / TEMPLATES_DIR)
    article = destination / ARTICLES_DIR / f"{today.isoformat()}-welkom.md"
    if not article.exists():
        article.write_text(WELCOME_ARTICLE.format(date=today.isoformat()), encoding="utf-8")
    return [destination / SETTINGS_FILE, destination / TEMPLATES_DIR, article]


def new_article(
    project: Path, title: str, date: dt.date, tags: list[str], *, draft: bool = True
) -> Path:
    """Write ``articles/<date>-<slug>.md`` with its front matter; refuse to overwrite."""
    import yaml

    if not (project / SETTINGS_FILE).is_file():
        raise NieuwsbriefError(
            f"{project / SETTINGS_FILE} not found: {project.resolve()} is not a nieuwsbrief "
            "project; pass --project, or create one with 'nieuwsbrief init'"
        )
    slug = slugify(title)
    if not slug:
        raise NieuwsbriefError(f"the title {title!r} gives an empty slug; use some letters")
    path = project / ARTICLES_DIR / f"{date.isoformat()}-{slug}.md"
    if path.exists():
        raise NieuwsbriefError(f"{path} already exists; choose another title or date")
    front: dict[str, object] = {"title": title, "date": date.isoformat()}
    if tags:
        front["tags"] = tags
    front["draft"] = draft
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as handle:
        handle.write(
            f'---\n{header}# summary: "Eén of twee zinnen die lezers nieuwsgierig maken."\n'
            '# image: /images/naam.jpg\n# image_alt: "Wat er op de afbeelding staat"\n---\n\n'
            "Schrijf hier de eerste alinea. Zonder summary wordt die de teaser.\n"
        )
    return path
