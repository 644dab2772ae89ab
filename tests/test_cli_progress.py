"""A build draws a progress bar on a terminal and stays quiet in a pipe, in CI, or with -q."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from conftest import NOW, REPO


def build_with_stderr_on(tty: bool, project: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    """Run a real build with stderr on a pseudo-terminal or a pipe; return code, out, err."""
    argv = [sys.executable, "-m", "nieuwsbrief", "build", "-p", str(project), "-o", str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TERM": "xterm"}
    if not tty:
        done = subprocess.run(
            [*argv, "--now", NOW, *extra], capture_output=True, text=True, env=env, check=False
        )
        return done.returncode, done.stdout, done.stderr
    controller, terminal = pty.openpty()
    with subprocess.Popen(
        [*argv, "--now", NOW, *extra], stdout=subprocess.PIPE, stderr=terminal, env=env
    ) as process:
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the build closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        stdout = process.stdout.read().decode() if process.stdout else ""
    os.close(controller)
    return process.returncode, stdout, b"".join(chunks).decode("utf-8", "replace")


def test_progress_bar_on_a_terminal(project: Path, tmp_path: Path) -> None:
    code, stdout, terminal = build_with_stderr_on(True, project, tmp_path / "out")
    assert code == 0, terminal
    assert "Reading articles" in terminal
    assert "100%" in terminal and "0%" in terminal
    assert "Built " in stdout


def test_no_progress_bar_in_a_pipe(project: Path, tmp_path: Path) -> None:
    code, stdout, stderr = build_with_stderr_on(False, project, tmp_path / "out")
    assert code == 0, stderr
    assert "Reading articles" not in stderr + stdout
    assert "Built " in stdout


def test_no_progress_bar_with_quiet(project: Path, tmp_path: Path) -> None:
    code, stdout, terminal = build_with_stderr_on(True, project, tmp_path / "out", "--quiet")
    assert code == 0, terminal
    assert "Reading articles" not in terminal and stdout == ""
