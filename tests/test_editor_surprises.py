"""The editor commands' edges the outside probe found (probe 12, findings 3 to 6 and 10): a
project path that would inject a crontab line, --out in the project, no tracebacks, a
watcher that stays in the project, and environment variables named by the documented rule."""

from __future__ import annotations

import datetime as dt
import http.client
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, copy_example_project, finishes
from nieuwsbrief.cli import cli
from nieuwsbrief.errors import escape_char
from nieuwsbrief.preview import Preview

CONTROL_NAMES = ["site\n* * * * * touch pwned #", "tab\there", "ls\u2028x", "ps\u2029x", "nel\x85x"]


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


# --- Finding 3: a control character in the project path ----------------------------------


@pytest.mark.parametrize("name", CONTROL_NAMES)
def test_init_refuses_a_path_with_a_control_character(tmp_path: Path, name: str) -> None:
    destination = tmp_path / name
    result = run("init", destination, "--no-input")
    assert result.exit_code == 1, result.output
    [line] = result.output.splitlines()
    assert "control character" in line and "choose a folder name without" in line
    control = next(char for char in name if not char.isprintable())
    assert escape_char(control) in line  # shown as an escape, not as a line break
    assert not destination.exists()


@pytest.mark.parametrize("option", ["--cron", "--systemd"])
@pytest.mark.parametrize("name", CONTROL_NAMES[:2])
def test_schedule_refuses_to_print_a_job_for_such_a_path(
    tmp_path: Path, name: str, option: str
) -> None:
    project = copy_example_project(tmp_path / name)
    result = run("schedule", "-p", project, option)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""  # no half a crontab to append
    [line] = result.stderr.splitlines()
    assert "control character" in line and "rename the folder" in line


def test_the_cron_lines_never_carry_a_line_break(tmp_path: Path) -> None:
    """The library refuses too, whoever calls it."""
    from nieuwsbrief.config import load_settings
    from nieuwsbrief.errors import NieuwsbriefError
    from nieuwsbrief.schedule import cron_lines

    project = copy_example_project(tmp_path / "p")
    settings = load_settings(project / "schedule.yaml")
    with pytest.raises(NieuwsbriefError, match="control character"):
        cron_lines(settings.digest, ["nieuwsbrief", "build"], "/srv/a\n* * * * * id #")


@settings(max_examples=300, deadline=None)
@given(workdir=st.text(min_size=1, max_size=80).map(lambda text: "/srv/" + text))
def test_any_project_folder_is_one_cron_line_that_cds_there_or_refused(workdir: str) -> None:
    """Generated folder names: one crontab line whose shell command, as cron and then the
    shell (shlex) read it, changes to exactly that folder; or one refusal naming it."""
    import shlex

    from nieuwsbrief.config import load_settings
    from nieuwsbrief.errors import NieuwsbriefError
    from nieuwsbrief.schedule import cron_lines

    settings = load_settings(Path(__file__).resolve().parent.parent / "schedule.yaml")
    try:
        lines = cron_lines(settings.digest, ["nieuwsbrief", "build"], workdir)
    except NieuwsbriefError as error:
        assert "project folder" in str(error) and "\n" not in str(error)
        return
    assert len("\n".join(lines).splitlines()) == 2, lines
    command = lines[1].split(" ", 5)[5]
    # cron turns a bare % into a line break and drops the backslash of \%.
    assert "%" not in command.replace("\\%", "")
    words = shlex.split(command.replace("\\%", "%"))
    assert words[:2] == ["cd", workdir] and words[2:] == ["&&", "nieuwsbrief", "build"], words


# --- Finding 4: --out defaults to public/ in the project ----------------------------------


def test_the_default_out_is_in_the_project_wherever_it_runs(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elders"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for args in (["-p", project, "build"], ["build", "-p", project]):
        result = run(*args, "--now", NOW)
        assert result.exit_code == 0, result.output
        assert (project / "public" / "feed.xml").is_file()
        assert f"into {project / 'public'}" in result.output
    assert list(elsewhere.iterdir()) == []  # no public/, no .public.lock here
    # From the environment too.
    result = run("build", "--now", NOW, env={"NIEUWSBRIEF_BUILD_PROJECT": str(project)})
    assert result.exit_code == 0, result.output
    assert list(elsewhere.iterdir()) == []
    # An --out given is taken as written: relative to the current folder.
    assert run("build", "-p", project, "--now", NOW, "-o", "eigen").exit_code == 0
    assert (elsewhere / "eigen" / "feed.xml").is_file()
    env = {"NIEUWSBRIEF_BUILD_OUT": "uit-env"}
    assert run("-p", project, "build", "--now", NOW, env=env).exit_code == 0
    assert (elsewhere / "uit-env" / "feed.xml").is_file()


def test_send_looks_for_the_digest_in_the_projects_public(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --out, send reads what build wrote: the project's public/, not ./public."""
    elsewhere = tmp_path / "elders"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert run("-p", project, "build", "--now", NOW).exit_code == 0
    sent: list[Path] = []

    def send_test(eml: Path, to: str, smtp: object) -> str:
        sent.append(eml)
        return "sent"

    monkeypatch.setattr("nieuwsbrief.send.send_test", send_test)
    result = run("-p", project, "send", "--to", "redactie@example.nl", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert sent == [project / "public" / "digests" / "2025-W48" / "digest.eml"]


# --- Finding 5: one line (or a usage error) instead of a traceback ------------------------


def test_init_where_it_cannot_write_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    in_the_way = tmp_path / "een-bestand"
    in_the_way.write_text("geen map\n", encoding="utf-8")
    result = run("init", in_the_way / "praktijk", "--no-input")
    assert result.exit_code == 1, result.output
    [line] = result.output.splitlines()
    assert "cannot create the project (Not a directory)" in line
    assert in_the_way.read_text(encoding="utf-8") == "geen map\n"


def test_init_refused_halfway_takes_back_what_it_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A permission refused after schedule.yaml was written: a second init may try again."""
    import shutil

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise PermissionError(13, "Permission denied", str(tmp_path / "p" / "templates"))

    monkeypatch.setattr(shutil, "copytree", refuse)
    result = run("init", tmp_path / "p", "--no-input")
    assert result.exit_code == 1, result.output
    [line] = result.output.splitlines()
    assert "cannot create the project (Permission denied)" in line
    assert not (tmp_path / "p" / "schedule.yaml").exists()
    monkeypatch.undo()
    assert run("init", tmp_path / "p", "--no-input").exit_code == 0


@pytest.mark.parametrize("port", ["99999", "-5", "65536"])
def test_a_port_out_of_range_is_a_usage_error(project: Path, port: str) -> None:
    result = run("preview", "-p", project, "--port", port)
    assert result.exit_code == 2, result.output
    assert "'--port'" in result.output and "Traceback" not in result.output
    result = run("preview", "-p", project, env={"NIEUWSBRIEF_PREVIEW_PORT": port})
    assert result.exit_code == 2, result.output


@pytest.fixture
def serving(project: Path) -> Iterator[tuple[Preview, list[str]]]:
    now = dt.datetime.fromisoformat(NOW)
    messages: list[str] = []
    server = Preview(project, 0, now=lambda: now, report=messages.append, interval=0.05)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, messages
    finally:
        server.stop()
        thread.join(timeout=30)


def _get(server: Preview, path: str) -> tuple[int, bytes]:
    port = server.server.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_nul_byte_in_the_path_is_404_without_a_traceback(
    serving: tuple[Preview, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    server, _ = serving
    with finishes("requests to the preview"):
        while server.rebuilds < 1:
            time.sleep(0.05)
        for path in ("/%00", "/digests/%00/x", "/feed.xml%00"):
            status, _ = _get(server, path)
            assert status == 404, path
        assert _get(server, "/feed.xml")[0] == 200
    assert "Traceback" not in capsys.readouterr().err


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.lists(st.binary(max_size=12) | st.sampled_from([b"..", b".", b"%", b""]), max_size=6))
def test_any_request_path_is_answered_without_a_traceback(
    serving: tuple[Preview, list[str]], capsys: pytest.CaptureFixture[str], raw: list[bytes]
) -> None:
    """Generated paths (any bytes, percent-encoded; dot segments): an answer, never a
    traceback, and nothing from outside the build (schedule.yaml's text) is served."""
    from urllib.parse import quote as percent

    server, _ = serving
    path = "/" + "/".join(percent(part, safe="") for part in raw)
    with finishes("a request to the preview"):
        while server.rebuilds < 1:
            time.sleep(0.05)
        status, body = _get(server, path)
    assert status in (200, 301, 302, 400, 403, 404, 414), (path, status)
    assert b"\nsmtp:" not in body, path  # schedule.yaml's own section
    assert "Traceback" not in capsys.readouterr().err, path


# --- Finding 6: the watcher stays in the project ------------------------------------------


def test_the_watcher_is_given_only_the_source_folders(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import watchfiles

    (project / "usrlink").symlink_to("/usr")
    (project / "public").mkdir()
    (project / "templates" / "delen").mkdir()
    (project / "templates" / "elders").symlink_to("/usr")
    (project / "articles" / "elders").symlink_to("/usr")
    given: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def watch(*paths: Any, **kwargs: Any) -> Iterator[set[Any]]:
        given.append((paths, kwargs))
        yield from ()

    monkeypatch.setattr(watchfiles, "watch", watch)
    server = Preview(project, 0)
    try:
        with finishes("the watcher"):
            server._watch()
    finally:
        server.stop()
    [(paths, kwargs)] = given
    root = project.resolve()
    assert list(paths) == [root, root / "articles", root / "templates", root / "templates/delen"]
    assert kwargs["recursive"] is False


def test_a_folder_that_appears_is_watched_and_built(empty_project: Path) -> None:
    """articles/ made after the preview started: the watch starts again and includes it."""
    import shutil

    from conftest import write_article

    shutil.rmtree(empty_project / "articles")
    now = dt.datetime.fromisoformat(NOW)
    messages: list[str] = []
    server = Preview(empty_project, 0, now=lambda: now, report=messages.append, interval=0.05)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with finishes("the preview's rebuilds"):
            while not messages:
                time.sleep(0.05)
            assert messages[0].startswith("build failed, nothing to serve until"), messages
            assert "previous build" not in messages[0]
            (empty_project / "articles").mkdir()
            while server.rebuilds < 1:
                time.sleep(0.05)
            # A change inside the new folder is seen: the watch includes it now.
            write_article(empty_project, "a.md", title="Na de nieuwe map", date="2025-11-20")
            while b"Na de nieuwe map" not in _get(server, "/feed.xml")[1]:
                time.sleep(0.05)
    finally:
        server.stop()
        thread.join(timeout=30)


# --- Finding 10: names and wording --------------------------------------------------------


def _long_name(option: click.Option) -> str:
    longs = [name for name in option.opts if name.startswith("--")]
    return max(longs, key=len)[2:].replace("-", "_").upper()


def test_every_option_reads_the_variable_the_rule_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """NIEUWSBRIEF_<COMMAND>_<OPTION>, the option's long name: no option may drift."""
    root = click.Context(cli, info_name="nieuwsbrief", auto_envvar_prefix="NIEUWSBRIEF")
    checked = 0
    for name, command in sorted(cli.commands.items()):
        ctx = click.Context(command, parent=root, info_name=name)
        for param in command.params:
            if not isinstance(param, click.Option) or param.name in ("help",):
                continue
            variable = f"NIEUWSBRIEF_{name.upper()}_{_long_name(param)}"
            monkeypatch.setenv(variable, "waarde")
            assert param.resolve_envvar_value(ctx) == "waarde", (name, param.opts, variable)
            monkeypatch.delenv(variable)
            checked += 1
    assert checked > 20


def test_check_format_from_the_environment(project: Path) -> None:
    import json

    result = run("check", "-p", project, "--now", NOW, env={"NIEUWSBRIEF_CHECK_FORMAT": "json"})
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.stdout), list)


def test_a_missing_articles_folder_is_named_by_its_path(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import shutil

    shutil.rmtree(project / "articles")
    monkeypatch.chdir(project)
    result = run("build", "--now", NOW, "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert f"create the folder {project / 'articles'}, even empty" in result.output
    assert " in ." not in result.output
