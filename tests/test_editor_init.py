"""``nieuwsbrief init`` asks for the practice, writes a .gitignore, and check flags examples."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import feedparser
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, RunCli
from nieuwsbrief.cli import cli
from nieuwsbrief.config import load_settings

ANSWERS = {
    "name": "Praktijk Het Baken",
    "website": "https://www.hetbaken.nl",
    "email": "info@hetbaken.nl",
    "phone": "030 765 4321",
}


def run_init(*args: str | Path, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["init", *map(str, args)], input=input, catch_exceptions=False)
    return result.exit_code, result.output


def check_json(run_cli: RunCli, project: Path) -> list[dict[str, str]]:
    result = run_cli("check", "-p", project, "--format", "json")
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def example_warning(problems: list[dict[str, str]]) -> list[dict[str, str]]:
    return [p for p in problems if "example practice" in p["message"]]


def test_init_asks_and_writes_the_answers(tmp_path: Path, run_cli: RunCli) -> None:
    project = tmp_path / "baken"
    # A bad website and a bad address are asked again, with the settings' own message.
    typed = "Praktijk Het Baken\nftp://baken\nhttps://www.hetbaken.nl/\nnee\ninfo@hetbaken.nl\n"
    code, output = run_init(project, input=typed + "030 765 4321\nu\n")
    assert code == 0, output
    assert "field 'site.base_url': 'ftp://baken' is not an https:// URL" in output
    assert "'nee' is not a single e-mail address" in output
    assert output.count("Website (https://...)") == 2

    settings = load_settings(project / "schedule.yaml")
    site = settings.site
    assert (site.title, site.base_url, site.author.name) == (
        ANSWERS["name"],
        ANSWERS["website"],
        ANSWERS["name"],
    )
    assert site.contact.phone == ANSWERS["phone"] and site.contact.email == ANSWERS["email"]
    assert site.contact.whatsapp is None and site.contact.address is None
    assert settings.digest.sender is not None and settings.digest.sender.email == ANSWERS["email"]
    assert settings.digest.unsubscribe_url == "https://www.hetbaken.nl/nieuwsbrief/afmelden/?lezer=__LEZER__"
    assert site.address_form == "u"
    # The comments of the default file stay, and nothing of the example practice is left.
    text = (project / "schedule.yaml").read_text("utf-8")
    assert text.startswith("# Settings for nieuwsbrief")
    assert "praktijkdelinde" not in text.lower().replace("# ", "")
    assert example_warning(check_json(run_cli, project)) == []
    [article] = (project / "articles").glob("*.md")
    body = article.read_text("utf-8")
    assert "Fijn dat u er bent" in body and " je " not in body


def test_init_without_input_keeps_the_example_and_check_says_so(
    tmp_path: Path, run_cli: RunCli
) -> None:
    project = tmp_path / "voorbeeld"
    code, output = run_init(project, "--no-input")
    assert code == 0, output
    assert "still holds the example practice" in output
    assert (project / "schedule.yaml").read_bytes() == (REPO / "schedule.yaml").read_bytes()
    [warning] = example_warning(check_json(run_cli, project))
    assert warning["severity"] == "warning" and warning["field"] == "site.title"
    strict = run_cli("check", "-p", project, "--strict")
    assert strict.exit_code == 1 and "schedule.yaml: field 'site.title'" in strict.output
    [article] = (project / "articles").glob("*.md")
    assert "Fijn dat je er bent" in article.read_text("utf-8")


def test_init_with_options_for_scripts(tmp_path: Path, run_cli: RunCli) -> None:
    project = tmp_path / "script"
    options = [f"--{key}={value}" for key, value in ANSWERS.items()]
    code, output = run_init(project, "--no-input", *options)
    assert code == 0, output
    assert example_warning(check_json(run_cli, project)) == []
    # The example article is a draft until the editor has read it and removes draft: true.
    [article] = (project / "articles").glob("*.md")
    text = article.read_text("utf-8")
    assert "\ndraft: true\n" in text
    article.write_text(text.replace("\ndraft: true\n", "\n"), "utf-8")
    out = tmp_path / "out"
    assert run_cli("build", "-p", project, "-o", out).exit_code == 0
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert feed.feed.title == ANSWERS["name"]
    assert feed.entries[0].link.startswith(ANSWERS["website"] + "/artikelen/")


def test_a_bad_option_is_one_clean_line_and_writes_nothing(tmp_path: Path) -> None:
    project = tmp_path / "fout"
    code, output = run_init(project, "--no-input", "--email", "geen-adres")
    assert code == 1
    [line] = output.strip().splitlines()
    expected = "--email: field 'site.contact.email': 'geen-adres' is not a single e-mail"
    assert expected in line
    assert not project.exists() or not any(project.iterdir())


def test_init_refuses_an_existing_project_before_asking(tmp_path: Path) -> None:
    project = tmp_path / "bestaand"
    assert run_init(project, "--no-input")[0] == 0
    before = (project / "schedule.yaml").read_bytes()
    code, output = run_init(project, input="")
    assert code == 1 and "already exists" in output and "Name of the practice" not in output
    assert (project / "schedule.yaml").read_bytes() == before


def test_gitignore_keeps_build_output_out_of_git(tmp_path: Path, run_cli: RunCli) -> None:
    project = tmp_path / "repo"
    project.mkdir()
    (project / ".gitignore").write_text("*.bak\n", encoding="utf-8")
    assert run_init(project, "--no-input")[0] == 0
    assert (project / ".gitignore").read_text("utf-8").startswith("*.bak\n")
    git = ["git", "-C", str(project)]
    subprocess.run([*git, "init", "-q"], check=True)
    # The README's quick start: a build into public/ beside the settings, with the cache.
    built = run_cli("build", "-p", project, "-o", project / "public")
    assert built.exit_code == 0, built.output
    assert (project / ".public.lock").exists() and (project / ".nieuwsbrief-cache").exists()
    status = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=all"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    tracked = sorted(line[3:] for line in status.splitlines())
    assert all(
        not name.startswith(("public/", ".public", ".nieuwsbrief-cache")) for name in tracked
    )
    assert "schedule.yaml" in tracked and ".gitignore" in tracked


def test_new_uses_the_form_of_address(tmp_path: Path, run_cli: RunCli) -> None:
    project = tmp_path / "u-vorm"
    assert run_init(project, "--no-input", "--address-form", "u")[0] == 0
    assert load_settings(project / "schedule.yaml").site.address_form == "u"
    result = run_cli("new", "Slapen", "-p", project, "--date", "2025-11-20")
    path = Path(result.output.strip())
    assert "Spreek lezers aan met 'u'" in path.read_text("utf-8")


TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=TEXT,
    website=st.one_of(TEXT, st.just("https://www.hetbaken.nl")),
    phone=TEXT,
    email=st.one_of(TEXT, st.just("info@hetbaken.nl")),
)
def test_any_answer_gives_exact_settings_or_one_clean_line(
    tmp_path_factory: object, name: str, website: str, phone: str, email: str
) -> None:
    """Hostile answers: exit 0 and the settings hold exactly the answers, or exit 1, one line."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder) / "p"
        args = ["--no-input", "--name", name, "--website", website, "--email", email]
        code, output = run_init(project, *args, "--phone", phone)
        assert code in (0, 1), output
        if code == 1:
            # One line per refused answer, each naming the setting.
            lines = output.strip().splitlines()
            assert 1 <= len(lines) <= 5, output
            assert all("field '" in line for line in lines), output
            assert "Traceback" not in output
            return
        site = load_settings(project / "schedule.yaml").site
        assert site.title == name.strip() and site.contact.phone == phone.strip()
        assert site.base_url == website.strip().rstrip("/")
        assert site.contact.email == email.strip()
        data = yaml.safe_load((project / "schedule.yaml").read_text("utf-8"))
        assert data["digest"]["from"]["name"] == name.strip()


def test_init_without_a_terminal_says_how_to_script_it(tmp_path: Path) -> None:
    code, output = run_init(tmp_path / "p", input="")
    assert code == 1
    assert "pass --no-input with --name, --website, --email and --phone" in output
    assert not (tmp_path / "p" / "schedule.yaml").exists()


def test_gitignore_covers_the_lock_of_any_out_folder(tmp_path: Path, run_cli: RunCli) -> None:
    project = tmp_path / "repo"
    assert run_init(project, "--no-input")[0] == 0
    subprocess.run(["git", "-C", str(project), "init", "-q"], check=True)
    for out in ("out", "site/public"):
        built = run_cli("build", "-p", project, "-o", project / out)
        assert built.exit_code == 0, built.output
    assert (project / ".out.lock").exists() and (project / "site" / ".public.lock").exists()
    ignored = subprocess.run(
        ["git", "-C", str(project), "check-ignore", ".out.lock", "site/.public.lock"],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert ignored == [".out.lock", "site/.public.lock"]


def test_a_refused_answer_names_the_option_not_the_unwritten_file(tmp_path: Path) -> None:
    for args, option in (
        (["--name", "A\nB"], "--name"),
        (["--website", "http://x.nl"], "--website"),
        (["--phone", "\x1b[2J"], "--phone"),
        (["--name", "A" * 5000], "--name"),
    ):
        project = tmp_path / "i1"
        code, output = run_init(project, "--no-input", *args)
        assert code == 1, output
        lines = output.strip().removeprefix("Error: ").splitlines()
        assert all(line.startswith(f"{option}: field '") for line in lines), output
        assert "schedule.yaml" not in output and not (project / "schedule.yaml").exists()


def test_a_refused_answer_to_a_question_is_asked_again(tmp_path: Path) -> None:
    answers = "A\x01B\nPraktijk\nhttps://p.nl\ninfo@p.nl\n030 1\nje\n"
    code, output = run_init(tmp_path / "p", input=answers)
    assert code == 0, output
    assert "schedule.yaml" not in output.split("Name of the practice", 2)[1].split("Website")[0]


def test_the_example_article_is_a_draft_that_no_reader_gets(
    tmp_path: Path, run_cli: RunCli
) -> None:
    """Probe 12, finding 7: init's welkom.md went into feed.xml and the first digest."""
    project = tmp_path / "script"
    options = [f"--{key}={value}" for key, value in ANSWERS.items()]
    code, output = run_init(project, "--no-input", *options)
    assert code == 0, output
    [article] = (project / "articles").glob("*-welkom.md")
    text = article.read_text("utf-8")
    front = text.split("---\n")[1]
    assert "draft: true" in front and "verwijder" in front  # the comment says what to do
    out = tmp_path / "out"
    built = run_cli("build", "-p", project, "-o", out)
    assert built.exit_code == 0, built.output
    assert feedparser.parse((out / "feed.xml").read_bytes()).entries == []
    assert "Welkom" not in (out / "feed.json").read_text("utf-8")
    assert not list(out.rglob("digest.*"))


def test_init_adds_no_example_beside_existing_articles(tmp_path: Path) -> None:
    project = tmp_path / "verhuisd"
    (project / "articles").mkdir(parents=True)
    existing = project / "articles" / "2024-05-01-eigen.md"
    existing.write_text('---\ntitle: "Eigen"\ndate: 2024-05-01\n---\n\nTekst.\n', "utf-8")
    code, output = run_init(project, "--no-input")
    assert code == 0, output
    assert sorted(path.name for path in (project / "articles").iterdir()) == [existing.name]
    assert "welkom" not in output
