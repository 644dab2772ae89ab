"""Hostile settings: every key of schedule.yaml with generated values, and the classes of
refusal (URLs, addresses, header texts, smtp, symlinks) checked one by one.

The property: build and check either succeed with inert output or fail with exit code 1
and one line per problem naming schedule.yaml; they agree on which (check finds what build
finds); never a traceback; every run within a time bound.
"""

from __future__ import annotations

import email
import email.policy
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, REPO, RunCli, set_setting
from inert import (
    ANY_TEXT,
    RAW_VALUES,
    assert_clean_failure,
    assert_inert,
    build_and_check,
    fresh_project,
)
from nieuwsbrief.config import check_email, normalize_url

BASE: dict[str, Any] = yaml.safe_load((REPO / "schedule.yaml").read_text("utf-8"))


def _leaves(data: dict[str, Any], path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [path] if path else []
    for key, value in data.items():
        paths += _leaves(value, (*path, key)) if isinstance(value, dict) else [(*path, key)]
    return paths


KEY_PATHS = [
    *_leaves(BASE),
    ("feeds", "path"),
    ("digest", "unsubscribe_mailto"),
    ("digest", "max_html_bytes"),
    ("smtp", "timeout"),
    ("digest", "from", "extra"),
    ("nieuw",),
]
def render(data: dict[str, Any], target: tuple[str, ...], raw: str, indent: int = 0) -> list[str]:
    """Write ``data`` as YAML lines, with ``raw`` typed as the value of ``target``."""
    pad = " " * indent
    lines: list[str] = []
    keys = list(data)
    if len(target) == 1 and target[0] not in data:
        keys.append(target[0])
    for key in keys:
        value = data.get(key)
        if (key,) == target:
            first, *rest = raw.split("\n")
            lines.append(f"{pad}{key}: {first}")
            lines += [f"{pad}  {line}" for line in rest]
        elif isinstance(value, dict):
            sub = target[1:] if target[:1] == (key,) else ()
            lines.append(f"{pad}{key}:")
            lines += render(value, sub, raw, indent + 2)
        else:
            lines.append(f"{pad}{key}: {json.dumps(value, ensure_ascii=False)}")
    return lines


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    target=st.sampled_from(KEY_PATHS)
    | st.tuples(st.sampled_from(["site", "digest", "smtp"]), ANY_TEXT.filter(bool)).map(
        lambda pair: (pair[0], json.dumps(pair[1], ensure_ascii=False))
    ),
    raw=RAW_VALUES,
)
def test_any_settings_value_is_inert_or_a_clean_error(target: tuple[str, ...], raw: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        project = fresh_project(Path(folder))
        text = "\n".join(render(BASE, target, raw)) + "\n"
        (project / "schedule.yaml").write_text(text, encoding="utf-8")
        built, checked = build_and_check(project, Path(folder) / "out")
        if built.exit_code == 0:
            assert_inert(Path(folder) / "out")
            assert checked.exit_code == 0, checked.output
        else:
            assert_clean_failure(built, lambda line: "schedule.yaml" in line)
            assert checked.exit_code == 1, ("check passed what build refused", built.output)
            assert_clean_failure(checked, lambda line: "schedule.yaml" in line)


HEADER_KEYS = [
    ("site", "title"),
    ("site", "author", "name"),
    ("site", "author", "email"),
    ("digest", "subject"),
    ("digest", "from", "name"),
    ("digest", "from", "email"),
    ("digest", "reply_to"),
    ("digest", "unsubscribe_url"),
    ("digest", "unsubscribe_mailto"),
    ("site", "base_url"),
]
# Text made mostly of what breaks headers, URLs and addresses.
HEADER_TEXT = st.text(
    st.sampled_from([*"\r\n\u2028\u2029\x85\x0b\x1b\x00\t<>,;:@\"' {}!%=?/é", "a", "b"])
    | st.characters(exclude_categories=("Cs",)),
    max_size=40,
)
HEADER_VALUES = st.one_of(
    HEADER_TEXT.map(lambda text: json.dumps(text, ensure_ascii=False)),
    HEADER_TEXT.map(lambda text: json.dumps("https://x.nl/" + text, ensure_ascii=False)),
    HEADER_TEXT.map(lambda text: json.dumps("post@" + text + ".nl", ensure_ascii=False)),
    HEADER_TEXT.map(lambda text: json.dumps("{site}" + text + "{week}", ensure_ascii=False)),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(target=st.sampled_from(HEADER_KEYS), raw=HEADER_VALUES)
def test_any_text_that_reaches_a_mail_header_is_inert_or_a_clean_error(
    target: tuple[str, ...], raw: str
) -> None:
    test_any_settings_value_is_inert_or_a_clean_error.hypothesis.inner_test(  # type: ignore[attr-defined]
        target, raw
    )


# --- The classes of refusal, one by one. -------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.praktijkdelinde.nl", "https://www.praktijkdelinde.nl"),
        ("HTTPS://WWW.Example.NL/Pad/", "https://www.example.nl/Pad/"),
        ("https://münchen.example/afmélden/", "https://xn--mnchen-3ya.example/afm%C3%A9lden/"),
        ("https://x.nl/a?b=c&d=é#f", "https://x.nl/a?b=c&d=%C3%A9#f"),
        ("https://x.nl/100%/%41", "https://x.nl/100%25/%41"),
        ("https://x.nl:8443/a,b", "https://x.nl:8443/a%2Cb"),
        ("https://[::1]:8000/", "https://[::1]:8000/"),
    ],
)
def test_urls_are_parsed_and_written_again(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://x.nl/ a", "contains a space"),
        ('https://x.nl/"a', "contains the character '\"'"),
        ("https://x.nl/a>, <mailto:x@evil.example>", "contains the character '>'"),
        ("https://x.nl/\x1b[2J", "contains the control character \\x1b"),
        ("https://x.nl/\u2028", "contains the character \\u2028"),
        ("javascript:alert(1)//x.nl", "is not an absolute URL"),
        ("https://user:pw@x.nl/", "holds a user name or password"),
        ("https://x.nl:99999/", "is not a valid URL"),
        ("https://x.nl:0/", "is not a valid URL"),
        ("https://-x-.nl/", "is not a valid domain name"),
        ("https:///pad", "is not an absolute URL"),
    ],
)
def test_bad_urls_are_refused(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=r"\S") as raised:
        normalize_url(url)
    assert problem in str(raised.value)
    assert "\x1b" not in str(raised.value) and "\u2028" not in str(raised.value)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("info@praktijkdelinde.nl", "info@praktijkdelinde.nl"),
        ("nieuwsbrief@praktijk-dé-linde.nl", "nieuwsbrief@xn--praktijk-d-linde-kqb.nl"),
        ("a.b+c@Example.NL", "a.b+c@example.nl"),
    ],
)
def test_addresses_get_an_ascii_domain(address: str, expected: str) -> None:
    assert check_email(address) == expected


@pytest.mark.parametrize(
    "address",
    ["info", "a@b", "a@b.nl, c@d.nl", "a b@c.nl", "a@b.nl\r\nBcc: x@y.nl", "é@b.nl", "a@1.2.3.4"],
)
def test_settings_and_send_refuse_the_same_addresses(
    address: str, project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    with pytest.raises(ValueError, match=r"e-mail address|valid domain"):
        check_email(address)
    set_setting(project, "digest", "reply_to", address)
    result = run_cli("check", "-p", project, "--now", NOW)
    assert result.exit_code == 1 and "digest.reply_to" in result.output
    sent = run_cli("send", "--to", address, "-p", project, "-o", tmp_path / "out")
    assert sent.exit_code == 2 and "--to" in sent.output


def test_a_non_ascii_sender_domain_is_idna_in_the_eml(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    set_setting(project, "digest", "from", {"name": "Praktijk", "email": "post@dé-linde.nl"})
    out = tmp_path / "out"
    assert run_cli("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    raw = next(out.glob("digests/*/digest.eml")).read_bytes()
    head = raw.split(b"\r\n\r\n")[0].decode("ascii")
    assert "From: Praktijk <post@xn--d-linde-bya.nl>" in head
    assert "=?" not in head.split("From:")[1].split("\r\n")[0]  # no encoded word in the address
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["From"].addresses[0].domain == "xn--d-linde-bya.nl"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1", "127.0.0.2"])
def test_smtp_without_encryption_is_allowed_on_loopback_only(
    host: str, project: Path, run_cli: RunCli
) -> None:
    set_setting(project, "smtp", "security", "none")
    set_setting(project, "smtp", "host", host)
    assert run_cli("check", "-p", project, "--now", NOW).exit_code == 0
    set_setting(project, "smtp", "host", "mail.example.nl")
    result = run_cli("check", "-p", project, "--now", NOW)
    assert result.exit_code == 1 and "smtp.security" in result.output


def test_settings_symlinked_outside_the_project_are_refused_without_quoting_them(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    secret = tmp_path / "credentials"
    secret.write_text("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG\n", encoding="utf-8")
    (project / "schedule.yaml").unlink()
    (project / "schedule.yaml").symlink_to(secret)
    for command in ("build", "check"):
        args = ["-o", tmp_path / "out"] if command == "build" else []
        result = run_cli(command, "-p", project, *args, "--now", NOW)
        assert result.exit_code == 1
        assert "symbolic link to a file outside the project" in result.output
        assert "wJalrXUtnFEMI" not in result.output


def test_a_settings_symlink_inside_the_project_still_works(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    (project / "settings").mkdir()
    (project / "schedule.yaml").rename(project / "settings" / "schedule.yaml")
    (project / "schedule.yaml").symlink_to(project / "settings" / "schedule.yaml")
    assert run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW).exit_code == 0


def test_a_secret_in_place_of_the_settings_is_quoted_short(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    secret = "geheim-" + "x" * 500 + "-EINDE"
    (project / "schedule.yaml").write_text(secret + "\n", encoding="utf-8")
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 1
    assert "-EINDE" not in result.output and len(result.output) < 400


def test_settings_that_are_not_a_regular_file_are_refused(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    import os

    (project / "schedule.yaml").unlink()
    os.mkfifo(project / "schedule.yaml")  # reading it would block forever
    result = run_cli("check", "-p", project, "--now", NOW)
    assert result.exit_code == 1 and "not a regular file" in result.output
