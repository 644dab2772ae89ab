"""Create new projects and new article files for editors."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from nieuwsbrief.articles import ARTICLES_DIR, article_paths
from nieuwsbrief.config import SETTINGS_FILE
from nieuwsbrief.errors import ConfigError, InvalidSettings, NieuwsbriefError, quote
from nieuwsbrief.templating import TEMPLATES_DIR as TEMPLATES_DIR  # reuse.py reads it here
from nieuwsbrief.templating import skeleton_dir as skeleton_dir  # it lives with the templates
from nieuwsbrief.urls import slugify

# The welcome article in both forms of address (site.address_form).
WELCOME_ARTICLE = {
    "je": """\
---
# Een voorbeeld van 'nieuwsbrief init'. Als concept (draft: true) komt het nergens in: lees
# het na en pas het aan, of verwijder dit bestand. Haal draft: true pas weg als het klopt.
title: "Welkom bij onze nieuwsbrief"
date: {date}
summary: "Elke week de nieuwste artikelen van onze psychologen in je mailbox."
tags: [praktijk]
draft: true
---

Fijn dat je er bent. In deze nieuwsbrief delen we elke week wat onze psychologen schreven
over psychische gezondheid: over somberheid, angst, slapen, werk en relaties.

## Wat je kunt verwachten

- Korte, heldere artikelen.
- Praktische tips die je meteen kunt gebruiken.
- Informatie over hoe een behandeling bij ons verloopt.
""",
    "u": """\
---
# Een voorbeeld van 'nieuwsbrief init'. Als concept (draft: true) komt het nergens in: lees
# het na en pas het aan, of verwijder dit bestand. Haal draft: true pas weg als het klopt.
title: "Welkom bij onze nieuwsbrief"
date: {date}
summary: "Elke week de nieuwste artikelen van onze psychologen in uw mailbox."
tags: [praktijk]
draft: true
---

Fijn dat u er bent. In deze nieuwsbrief delen we elke week wat onze psychologen schreven
over psychische gezondheid: over somberheid, angst, slapen, werk en relaties.

## Wat u kunt verwachten

- Korte, heldere artikelen.
- Praktische tips die u meteen kunt gebruiken.
- Informatie over hoe een behandeling bij ons verloopt.
""",
}

GITIGNORE = """\
# Written by 'nieuwsbrief init': build output, the build cache and the build lock.
/public/
/.public.*
.*.lock
.nieuwsbrief-cache/
"""

# The body 'nieuwsbrief new' writes: instructions for the editor, never for readers ('check'
# warns while any sentence of it is left, see placeholder_warnings).
NEW_ARTICLE_BODY = (
    "Schrijf hier de eerste alinea. Spreek lezers aan met '{form}' "
    "(site.address_form in schedule.yaml). Zonder summary wordt die alinea de teaser.\n"
)

# A longer title gives a slug cut at a word boundary: file names stay well within the OS's limit.
MAX_SLUG_CHARS = 80

# The example practice in the default schedule.yaml; 'init' replaces it with the answers, and
# 'check' warns while any of it is left.
EXAMPLE_NAME = "Praktijk De Linde"
EXAMPLE_WEBSITE = "https://www.praktijkdelinde.nl"
EXAMPLE_EMAIL = "info@praktijkdelinde.nl"
EXAMPLE_PHONE = "020 123 4567"
EXAMPLE_MARKERS = (
    "example.nl",
    "example.com",
    "example.org",
    "praktijkdelinde.nl",
    EXAMPLE_NAME,
    EXAMPLE_PHONE,
    "06 12345678",
    "Lindengracht 12",
)


@dataclass(frozen=True)
class Practice:
    """The answers 'init' asks for; the defaults are the example practice."""

    name: str = EXAMPLE_NAME
    website: str = EXAMPLE_WEBSITE
    email: str = EXAMPLE_EMAIL
    phone: str = EXAMPLE_PHONE
    address_form: str = "je"

    @property
    def is_example(self) -> bool:
        """Say whether every answer is still the example practice's."""
        return self == Practice(address_form=self.address_form)


def _quoted(value: str) -> str:
    """Return ``value`` as the inside of a YAML double-quoted string (JSON escapes are YAML)."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


def render_settings(template: str, practice: Practice) -> str:
    """Return the default ``schedule.yaml`` text with the example practice replaced.

    Only values change; the comments and the layout stay. Lines whose example value has no
    answer (WhatsApp, postal address) are commented out for the editor to fill in.
    """
    text = template.replace("address_form: je", f"address_form: {practice.address_form}")
    if practice.is_example:
        return text
    website = practice.website.rstrip("/")
    domain = practice.email.rpartition("@")[2]
    lines = []
    for line in text.splitlines(keepends=True):
        key = line.strip().partition(":")[0]
        if key in ("whatsapp", "address") and line.startswith("    "):
            lines.append(
                line.replace(key + ":", "# " + key + ":", 1).replace(EXAMPLE_NAME + ", ", "", 1)
            )
            continue
        if key == "user" and "praktijkdelinde.nl" in line:
            line = line.split(":", 1)[0] + ': "' + _quoted(practice.email) + '"\n'
        elif key == "host" and "praktijkdelinde.nl" in line:
            line = (
                line.split(":", 1)[0]
                + ': "smtp.'
                + _quoted(domain)
                + '"  # ask your mail provider\n'
            )
        lines.append(line)
    text = "".join(lines)
    answers = {
        EXAMPLE_WEBSITE: website,
        "nieuwsbrief@praktijkdelinde.nl": practice.email,
        EXAMPLE_EMAIL: practice.email,
        EXAMPLE_NAME: practice.name,
        EXAMPLE_PHONE: practice.phone,
    }
    # One pass, so an answer that contains another example value is not replaced again.
    pattern = re.compile("|".join(re.escape(old) for old in answers))
    text = pattern.sub(lambda match: _quoted(answers[match[0]]), text)
    return text


def check_practice(practice: Practice, path: Path) -> None:
    """Validate the settings ``practice`` gives; raise ``ConfigError`` naming the option.

    The answers come from init's options or questions, and ``path`` is not written yet, so
    an error names the option (``--name``) and the setting it fills, not the file.
    """
    from nieuwsbrief.config import check_email, parse_settings
    from nieuwsbrief.yamlsafe import YamlRefused, load_yaml

    keys = {
        "name": "site.title",
        "website": "site.base_url",
        "email": "site.contact.email",
        "phone": "site.contact.phone",
    }
    for name, key in keys.items():
        value = getattr(practice, name)
        if not value.strip() or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
            raise ConfigError(
                f"--{name}",
                f"{quote(value)} is not one line of text",
                field=key,
                fix=f"give the practice's {name}",
            )
    try:
        check_email(practice.email)
    except ValueError as exc:
        # One answer fills several settings; name it once, by the first.
        raise ConfigError("--email", str(exc), field="site.contact.email") from None
    if not practice.website.startswith("https://"):
        raise ConfigError(
            "--website",
            f"{quote(practice.website)} is not an https:// URL",
            field="site.base_url",
            fix="give the website's address, e.g. https://www.praktijk.nl",
        )
    text = render_settings((skeleton_dir() / SETTINGS_FILE).read_text(encoding="utf-8"), practice)
    try:
        data = load_yaml(text)
    except YamlRefused:
        raise NieuwsbriefError(
            "--name, --website, --email, --phone: the answers cannot be written as settings; "
            "use plain text"
        ) from None
    try:
        parse_settings(data, path)
    except InvalidSettings as error:
        raise InvalidSettings([_by_option(one, data, practice) for one in error.errors]) from None
    except ConfigError as error:
        raise _by_option(error, data, practice) from None


# The init option whose answer fills a setting, by the setting's key (or its section).
ANSWER_OPTIONS = (
    ("site.title", "--name"),
    ("digest.from.name", "--name"),
    ("site.base_url", "--website"),
    ("site.contact.phone", "--phone"),
    ("site.address_form", "--address-form"),
    ("site.contact.email", "--email"),
    ("digest.from", "--email"),
    ("smtp.", "--email"),
)


def _by_option(error: ConfigError, data: object, practice: Practice) -> ConfigError:
    """Return ``error`` naming the init option that filled its setting instead of the file."""
    field = error.field or ""
    value: object = data
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    # The answer the setting holds (the name also fills the author and the description).
    held = [
        f"--{name}"
        for name in ("name", "website", "email", "phone")
        if isinstance(value, str) and getattr(practice, name).strip() in value
    ]
    option = (
        held[0]
        if held
        else next(
            (option for key, option in ANSWER_OPTIONS if field == key or field.startswith(key)),
            "the answers to init",
        )
    )
    return ConfigError(option, error.problem, field=error.field, fix=error.fix)


def example_values(data: object, prefix: str = "") -> list[tuple[str, str]]:
    """Return (key, value) for every setting that still holds an example value."""
    found: list[tuple[str, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            found.extend(example_values(value, f"{prefix}{key}."))
    elif isinstance(data, str) and any(m.lower() in data.lower() for m in EXAMPLE_MARKERS):
        found.append((prefix.rstrip("."), data))
    return found


def refuse_existing(destination: Path) -> None:
    """Raise when ``destination`` cannot take a new project: it already holds one ('init'
    only creates new ones), or its path cannot be written in a crontab line."""
    from nieuwsbrief.schedule import refuse_unschedulable_path

    # Refused here, not only by 'schedule --cron': the project's weekly run needs its path.
    refuse_unschedulable_path(
        destination.absolute(), "choose a folder name without control characters"
    )
    for path in (destination / SETTINGS_FILE, destination / TEMPLATES_DIR):
        if path.exists():
            raise NieuwsbriefError(
                f"{path} already exists; 'nieuwsbrief init' only creates new projects"
            )


def init_project(destination: Path, today: dt.date, practice: Practice | None = None) -> list[Path]:
    """Create a project with settings, templates, a .gitignore and an example article.

    The example article is a draft, and is only written when ``articles/`` holds no article yet.

    Refuses to overwrite; validates the settings before writing anything.
    """
    practice = practice or Practice()
    refuse_existing(destination)
    source = skeleton_dir()
    settings_text = render_settings((source / SETTINGS_FILE).read_text(encoding="utf-8"), practice)
    check_practice(practice, destination / SETTINGS_FILE)
    created: list[Path] = []
    try:
        _write_project(destination, source, settings_text, today, practice, created)
    except OSError as error:
        # Take back the settings and templates written so far: they would make the next
        # 'init' refuse the folder as a project. Folders and .gitignore lines stay (harmless).
        for path in created:
            if path.name == SETTINGS_FILE:
                path.unlink(missing_ok=True)
            elif path.name == TEMPLATES_DIR:
                shutil.rmtree(path, ignore_errors=True)
        where = error.filename or destination
        raise NieuwsbriefError(
            f"{where}: cannot create the project ({error.strerror or error}); check that "
            f"{destination.absolute().parent} is a folder you may write to, or choose another"
        ) from None
    return created


def _write_project(
    destination: Path,
    source: Path,
    settings_text: str,
    today: dt.date,
    practice: Practice,
    created: list[Path],
) -> None:
    """Write the new project's files, adding each to ``created`` as it is written."""
    (destination / ARTICLES_DIR).mkdir(parents=True, exist_ok=True)
    (destination / SETTINGS_FILE).write_text(settings_text, encoding="utf-8")
    created.append(destination / SETTINGS_FILE)
    try:
        shutil.copytree(source / TEMPLATES_DIR, destination / TEMPLATES_DIR)
    finally:  # copytree may have written part of the folder before it failed
        if (destination / TEMPLATES_DIR).exists():
            created.append(destination / TEMPLATES_DIR)
    gitignore = destination / ".gitignore"
    present = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.exists() else []
    missing = [line for line in GITIGNORE.splitlines() if line not in present]
    if any(not line.startswith("#") for line in missing):
        lead = "\n" if present and present[-1].strip() else ""
        with gitignore.open("a", encoding="utf-8") as handle:
            handle.write(lead + "\n".join(missing) + "\n")
        created.append(gitignore)
    # The example is a draft for the editor to review, and only in a new articles folder:
    # beside articles a project brings along (a migration) it would be one more to remove.
    article = destination / ARTICLES_DIR / f"{today.isoformat()}-welkom.md"
    if not article_paths(destination / ARTICLES_DIR):
        welcome = WELCOME_ARTICLE[practice.address_form]
        article.write_text(welcome.format(date=today.isoformat()), encoding="utf-8")
        created.append(article)


def new_article(
    project: Path, title: str, date: dt.date, tags: list[str], *, draft: bool = True
) -> Path:
    """Write ``articles/<date>-<slug>.md`` with its front matter; refuse to overwrite."""
    import yaml

    if not (project / SETTINGS_FILE).is_file():
        raise NieuwsbriefError(
            f"{project / SETTINGS_FILE} not found: {project.resolve()} is not a nieuwsbrief "
            "project; name the project's folder, or create one with 'nieuwsbrief init'"
        )
    slug = _bounded(slugify(title))
    if not slug:
        raise NieuwsbriefError(
            f"the title {quote(title)} gives an empty slug (the file name keeps only the letters "
            "a-z and digits); give a title with some of those, and change it in the file after"
        )
    path = project / ARTICLES_DIR / f"{date.isoformat()}-{slug}.md"
    if path.exists():
        raise NieuwsbriefError(f"{path} already exists; choose another title or date")
    front: dict[str, object] = {"title": title, "date": date.isoformat()}
    if tags:
        front["tags"] = tags
    front["draft"] = draft
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
    form = _address_form(project)
    text = (
        f'---\n{header}# summary: "Eén of twee zinnen die lezers nieuwsgierig maken."\n'
        '# image: /images/naam.jpg\n# image_alt: "Wat er op de afbeelding staat"\n---\n\n'
        + NEW_ARTICLE_BODY.format(form=form)
    )
    _refuse_what_check_refuses(project, path, text)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        if not path.exists():
            raise NieuwsbriefError(
                f"{path.parent} is a file where nieuwsbrief needs the articles folder; move it away"
            ) from None
        raise NieuwsbriefError(f"{path} already exists; choose another title or date") from None
    except OSError as error:
        raise NieuwsbriefError(
            f"{path}: cannot write the article ({error.strerror or error}); check that "
            f"{path.parent} is a folder you may write to, or choose a shorter title"
        ) from None
    return path


def _refuse_what_check_refuses(project: Path, path: Path, text: str) -> None:
    """Parse the article about to be written as check will; its error is new's error."""
    from nieuwsbrief.articles import parse_article
    from nieuwsbrief.config import load_settings
    from nieuwsbrief.errors import ArticleError

    try:
        site = load_settings(project / SETTINGS_FILE).site
    except NieuwsbriefError:
        return  # check reports the settings; the article itself is still written
    try:
        parse_article(path, text, site)
    except ArticleError as error:
        raise NieuwsbriefError(
            f"not written: {error}; 'nieuwsbrief check' would refuse the article"
        ) from None


def placeholder_warnings(body: str) -> list[str]:
    """Warn when a body still holds the instructions that 'nieuwsbrief new' writes into it.

    The fragments come from ``NEW_ARTICLE_BODY`` itself (each sentence of at least 20
    characters around the form of address), matched with any line wrapping.
    """
    text = " ".join(body.split())
    for piece in NEW_ARTICLE_BODY.split("{form}"):
        for sentence in re.split(r"(?<=[.)])\s+", " ".join(piece.split())):
            fragment = sentence.strip(" '")
            if len(fragment) >= 20 and fragment in text:
                return [
                    f"still holds the placeholder text of 'nieuwsbrief new' ({fragment!r}); "
                    "replace it by the article's own text"
                ]
    return []


def _bounded(slug: str) -> str:
    """Cut a slug to at most MAX_SLUG_CHARS, at a word boundary where there is one."""
    if len(slug) <= MAX_SLUG_CHARS:
        return slug
    head = slug[: MAX_SLUG_CHARS + 1]
    boundary = head.rfind("-")
    return (head[:boundary] if boundary > 0 else slug[:MAX_SLUG_CHARS]).strip("-")


def _address_form(project: Path) -> str:
    """Return the project's site.address_form, or the default when the settings are broken."""
    from nieuwsbrief.config import load_settings

    try:
        return load_settings(project / SETTINGS_FILE).site.address_form
    except NieuwsbriefError:
        return "je"


def example_warnings(data: object) -> list[tuple[str, str]]:
    """Return one (key, message) when settings still hold the example practice's values."""
    found = example_values(data)
    if not found:
        return []
    keys = [key for key, _ in found]
    listed = ", ".join(keys[:6]) + (f" and {len(keys) - 6} more" if len(keys) > 6 else "")
    return [
        (
            keys[0],
            f"{len(keys)} setting(s) still hold the example practice ({quote(found[0][1])}): "
            f"{listed}; put in your own practice's (or run 'nieuwsbrief init' in a new folder, "
            "which asks for them)",
        )
    ]
