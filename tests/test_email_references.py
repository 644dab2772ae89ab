"""The digest judged by outside references, not by rules of our own.

- official MJML 5 (npm ``mjml``) validates the rendered MJML source in strict mode, and its
  Outlook (mso) widths are compared with what mjml-python writes;
- the caniemail support data (npm ``@jsx-email/doiuse-email``) lints every built email for
  Gmail, Outlook for Windows and iOS, Apple Mail and Yahoo;
- the Nu HTML Checker (npm ``vnu-jar``, run with Java) finds no error the template causes;
- SpamAssassin (Debian ``spamassassin``, local rules only) scores the example .eml.

``.ci/run`` installs all of them (``npm ci`` in tests/js, apt). A missing tool is a skip
locally and a failure when ``CI`` is set. Every tool runs on files in tmp_path, with a timeout.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import NOW, REPO, copy_example_project, write_article
from nieuwsbrief.articles import scan_articles
from nieuwsbrief.build import Site, render_site
from nieuwsbrief.config import Logo, load_settings
from nieuwsbrief.digest import Digest
from nieuwsbrief.services import MAIL_SERVICES

JS = Path(__file__).parent / "js"
NODE_MODULES = JS / "node_modules"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
TIMEOUT = 180  # seconds for one tool run over all files; the machine may be busy

# The clients the issue names (caniemail's keys): Gmail desktop webmail and apps, Outlook for
# Windows, Outlook.com and iOS, Apple Mail on macOS and iOS, Yahoo. (tests/js/caniemail.js adds
# Outlook.com, which doiuse-email's own client list lacks.)
CLIENTS = (
    "gmail.desktop-webmail",
    "gmail.android",
    "gmail.ios",
    "outlook.windows",
    "outlook.outlook-com",
    "outlook.ios",
    "apple-mail.macos",
    "apple-mail.ios",
    "yahoo.desktop-webmail",
    "yahoo.ios",
    "yahoo.android",
)
# Features one of those clients drops that the digest may use, because losing them is
# harmless. Nothing here hides or shows content, or carries a layout the email needs.
ALLOWED_UNSUPPORTED = {
    # Phone layout and dark mode: the layout is fluid without it, light is the default.
    "@media": "media queries",
    # Rounded corners only.
    "border-radius": "rounded corners",
    # MJML clips rounded section corners with overflow:hidden (checked below: only there).
    "overflow": "clipping rounded corners",
    # Selectors in <style>: everything layout and colour need is inlined as well
    # (test_digest_browser.py loads the email with every <style> removed).
    "Type selector": "selectors in <style>",
    "Class selector": "selectors in <style>",
    "ID selector": "selectors in <style>",
    "Descendant combinator": "selectors in <style>",
    "Chaining selectors": "selectors in <style>",
    # MJML's resets and wrapping aids: without them text still wraps and images still show.
    "word-break": "MJML's wrapping aid for long words",
    "word-spacing": "MJML's body reset",
    "outline": "MJML's image reset",
    # These clients replace <body> by a <div>: the page colour is on MJML's wrapper div too
    # (checked below).
    "<body> element": "the page colour on <body>",
    # Where a client strips aria-label the button is named by its visible text, "Lees
    # verder", right under the article's title link (WCAG 2.4.4, link purpose in context).
    "aria-label attribute": "the button's longer accessible name",
}
# Nu HTML Checker errors that come from MJML's own markup: the Office namespaces on <html>,
# and Outlook's vendor CSS properties (mso-*), which MJML writes and the button borrows.
VNU_ALLOWED = (
    re.compile(r"^Attribute “xmlns:[vo]” not allowed here\.$"),
    re.compile(r"^CSS: “mso-[a-z-]+”: Property “mso-[a-z-]+” doesn't exist\.$"),
)
# Headers only a message that has not been sent lacks; SpamAssassin scores them.
UNSENT_RULES = {"NO_RECEIVED", "NO_RELAYS"}


def require(found: bool, message: str) -> None:
    """Skip when a reference tool is missing; fail under CI, where .ci/run installs it."""
    if found:
        return
    if os.environ.get("CI"):
        pytest.fail(message + "; .ci/run must install it")
    pytest.skip(message)


def node_package(name: str) -> Path:
    node = shutil.which("node")
    require(node is not None, "node is not installed (apt-get install nodejs npm)")
    require(
        (NODE_MODULES / name / "package.json").exists(),
        f"npm package {name} is not installed (npm ci --prefix tests/js)",
    )
    assert node is not None
    return Path(node)


def run(argv: list[str | Path], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in argv],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        cwd=cwd,
        env={**os.environ, "HOME": str(cwd or JS)},
    )


# --- The digests to judge ------------------------------------------------------------------


def render(project: Path, **changes: object) -> Digest:
    """Render the digest of ``project`` at NOW, with settings changed as given."""
    settings = load_settings(project / "schedule.yaml")
    site = {k.removeprefix("site_"): v for k, v in changes.items() if k.startswith("site_")}
    mail = {k.removeprefix("digest_"): v for k, v in changes.items() if k.startswith("digest_")}
    settings = dataclasses.replace(
        settings,
        site=dataclasses.replace(settings.site, **site),
        digest=dataclasses.replace(settings.digest, **mail),
    )
    articles, errors = scan_articles(project / "articles", settings.site)
    assert not errors
    if changes.get("no_articles"):
        articles = []
    now = settings.localize(dt.datetime.fromisoformat(NOW))
    digest = render_site(Site(settings, articles), now).digest
    assert digest is not None
    return digest


@pytest.fixture(scope="module")
def digests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Digest]:
    """The example, the golden project, an overflow, an empty week, logo and "u", every
    mail-service profile: each as the library renders it."""
    golden = tmp_path_factory.mktemp("golden") / "project"
    shutil.copytree(Path(__file__).parent / "golden" / "project", golden)
    shutil.copytree(REPO / "templates", golden / "templates")
    # An article about suicide listed by title only: the crisis notice under that list.
    crisis = copy_example_project(tmp_path_factory.mktemp("crisis") / "project")
    write_article(
        crisis,
        "2025-11-20-praten-over-zelfdoding.md",
        "Erover praten helpt.",
        title="Praten over zelfdoding",
        date="2025-11-20",
        tags=["zelfdoding"],
    )
    found = {
        "example": render(REPO),
        "golden": render(golden),
        "overflow": render(REPO, digest_max_items=1),
        "overflow-crisis": render(crisis, digest_max_items=1),
        "empty-week": render(REPO, digest_empty_week="send", no_articles=True),
        "logo-u": render(
            REPO,
            site_logo=Logo("https://www.praktijkdelinde.nl/logo.png", "Praktijk De Linde", 180),
            site_address_form="u",
        ),
    }
    for service in MAIL_SERVICES:
        if service != "generic":
            found[f"profile-{service}"] = render(REPO, digest_mail_service=service)
    assert found["overflow"].overflow and not found["empty-week"].items
    assert 'class="nb-crisis"' in found["overflow-crisis"].mjml
    return found


def email_html(digest: Digest) -> str:
    message = email.message_from_bytes(digest.eml, policy=email.policy.default)
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def write_all(folder: Path, files: dict[str, str]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in files.items():
        paths[name] = folder / name
        paths[name].write_text(text, encoding="utf-8")
    return paths


# --- Official MJML 5 ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def official(
    digests: dict[str, Digest], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, object]]:
    """Compile every digest's MJML source with official MJML in strict mode."""
    node = node_package("mjml")
    folder = tmp_path_factory.mktemp("mjml")
    paths = write_all(folder, {f"{name}.mjml": d.mjml for name, d in digests.items()})
    result = run([node, JS / "mjml-check.js", *paths.values()], cwd=folder)
    assert result.returncode == 0, result.stderr[-2000:]
    by_path = json.loads(result.stdout)
    return {name.removesuffix(".mjml"): by_path[str(path)] for name, path in paths.items()}


def test_official_mjml_accepts_every_digest_in_strict_mode(
    digests: dict[str, Digest], official: dict[str, dict[str, object]]
) -> None:
    assert set(official) == set(digests)
    for name, result in official.items():
        assert result["errors"] == [], name
        assert result["html"], name


MSO_BLOCK = re.compile(r"<!--\[if mso \| IE\]>(.*?)<!\[endif\]-->", re.S)
MSO_WIDTH = re.compile(r"""width(?:="|:)(\d+)(?:px)?""")


def mso_widths(html: str) -> list[int]:
    """Return every width in the Outlook-only (mso) markup, in order."""
    return [int(w) for block in MSO_BLOCK.findall(html) for w in MSO_WIDTH.findall(block)]


def test_outlook_widths_match_official_mjml(
    digests: dict[str, Digest], official: dict[str, dict[str, object]]
) -> None:
    for name, digest in digests.items():
        ours = mso_widths(digest.email_html)
        theirs = mso_widths(str(official[name]["html"]))
        assert ours, name
        assert ours == theirs, name
        # Nothing in Outlook is wider than the 600 px email.
        assert max(ours) <= 600, name


def test_mj_divider_is_avoided_because_its_outlook_width_differs(tmp_path: Path) -> None:
    """mjml-python writes mj-divider's Outlook table 600 px wide inside a 544 px box, where
    official MJML writes 544: the template draws its dividers itself. When this test fails,
    mjml-python agrees with MJML again and the template may use mj-divider."""
    from nieuwsbrief.digest import compile_mjml

    node = node_package("mjml")
    source = (
        '<mjml><mj-body width="600px"><mj-section padding="0"><mj-column>'
        '<mj-divider border-width="1px" border-color="#e4e0d8" padding="8px 28px 0" />'
        "</mj-column></mj-section></mj-body></mjml>"
    )
    path = tmp_path / "divider.mjml"
    path.write_text(source, encoding="utf-8")
    result = run([node, JS / "mjml-check.js", path], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    theirs = mso_widths(json.loads(result.stdout)[str(path)]["html"])
    ours = mso_widths(compile_mjml(source, path))
    assert 544 in theirs and 544 not in ours and ours != theirs
    assert "<mj-divider" not in (REPO / "templates" / "digest.mjml.j2").read_text("utf-8")


# --- caniemail -----------------------------------------------------------------------------


def test_no_feature_a_major_client_drops_carries_meaning(
    digests: dict[str, Digest], tmp_path: Path
) -> None:
    node = node_package("@jsx-email/doiuse-email")
    htmls = {f"{name}.html": email_html(digest) for name, digest in digests.items()}
    paths = write_all(tmp_path, htmls)
    result = run([node, JS / "caniemail.js", ",".join(CLIENTS), *paths.values()], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    problems: dict[str, set[str]] = {}
    seen: set[str] = set()
    for name, path in paths.items():
        for error in report[str(path)]["errors"]:
            match = re.fullmatch(r"`(.+)` is not supported by `(.+)`", error)
            assert match, error
            feature, client = match.groups()
            assert client in CLIENTS
            seen.add(feature)
            if feature not in ALLOWED_UNSUPPORTED:
                problems.setdefault(name, set()).add(error)
    assert problems == {}
    # Every client was really looked up, Outlook.com included (its notes name it).
    everything = " ".join(
        line
        for path in paths.values()
        for key in ("errors", "notes")
        for line in report[str(path)][key]
    )
    for client in CLIENTS:
        assert f"`{client}`" in everything, client
    # The linter really ran on the email: the <style> block's media queries are found.
    assert "@media" in seen
    # The off-screen label trick is gone for good: position is unsupported in Gmail & co.
    for name, html in htmls.items():
        assert "position:" not in html.replace(" ", ""), name
        assert re.search(r'<div class="nb-page"[^>]*style="background-color:#f2efe9', html), name
        # overflow only where MJML clips rounded corners, never to hide text.
        for style in re.findall(r'style="([^"]*)"', html):
            if "overflow" in style:
                assert "border-radius" in style, (name, style)


# --- Nu HTML Checker -----------------------------------------------------------------------


def test_nu_html_checker_finds_no_error_the_template_causes(
    digests: dict[str, Digest], tmp_path: Path
) -> None:
    java = shutil.which("java")
    require(java is not None, "java is not installed (apt-get install default-jre-headless)")
    node_package("vnu-jar")
    example = digests["example"]
    files = {
        "email.html": email_html(example),
        "web.html": example.html,
        "overflow.html": email_html(digests["overflow"]),
        "logo-u.html": email_html(digests["logo-u"]),
        "archive.html": (
            render_site(
                Site(load_settings(REPO / "schedule.yaml"), []),
                dt.datetime.fromisoformat(NOW),
                archive=[example.manifest],
            )
            .files["digests/index.html"]
            .decode("utf-8")
        ),
    }
    paths = write_all(tmp_path, files)
    assert java is not None
    result = run(
        [java, "-jar", VNU_JAR, "--format", "json", "--exit-zero-always", *paths.values()],
        cwd=tmp_path,
    )
    messages = json.loads(result.stderr)["messages"]
    errors = [m for m in messages if m["type"] in ("error", "non-document-error")]
    assert errors, "the checker found none of MJML's known errors: did it run?"
    caused = [
        f"{Path(m.get('url', '?')).name}:{m.get('lastLine')}: {m['message']}"
        for m in errors
        if not any(pattern.match(m["message"]) for pattern in VNU_ALLOWED)
    ]
    assert caused == []
    archive_errors = [m for m in errors if m.get("url", "").endswith("archive.html")]
    assert archive_errors == []


# --- SpamAssassin --------------------------------------------------------------------------


def spam_report(eml: bytes, home: Path) -> dict[str, float]:
    spamassassin = shutil.which("spamassassin")
    require(
        spamassassin is not None, "spamassassin is not installed (apt-get install spamassassin)"
    )
    assert spamassassin is not None
    home.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [spamassassin, "-t", "-L"],
        input=eml,
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
        env={**os.environ, "HOME": str(home)},
    )
    output = result.stdout.decode("utf-8", "replace")
    details = output.split("Content analysis details:", 1)
    assert len(details) == 2, result.stderr.decode("utf-8", "replace")[-2000:]
    rules = {}
    for line in details[1].splitlines():
        match = re.match(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z][A-Z0-9_]+)\s", line)
        if match:
            rules[match[2]] = float(match[1])
    assert rules, output[-2000:]
    return rules


def test_spamassassin_scores_the_example_low(digests: dict[str, Digest], tmp_path: Path) -> None:
    rules = spam_report(digests["example"].eml, tmp_path / "home")
    score = sum(points for rule, points in rules.items() if rule not in UNSENT_RULES)
    assert score < 0.5, rules
    # The two rules the issue found are gone for good.
    assert "HTML_OFF_PAGE" not in rules and "HTML_FONT_LOW_CONTRAST" not in rules
