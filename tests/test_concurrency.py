"""Two builds on the same --out at once: both succeed, or the second says another is running."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import NOW, RunCli, tree_bytes
from test_atomic import (
    LATER,
    Trees,
    finish,
    leftovers,
    make_trees,
    old_output,
    start_build,
    wait_for_marker,
)

BUSY = "another nieuwsbrief build is running"


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Trees:
    """Return a big project and its complete old and new outputs."""
    return make_trees(tmp_path_factory.mktemp("concurrency"))


@pytest.fixture(scope="module")
def outcomes(trees: Trees, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes]]:
    """Return the complete output of each order two builds (NOW, LATER) can finish in."""
    project, old, new = trees
    found = {"NOW": old, "NOW LATER": new}
    root = tmp_path_factory.mktemp("orders")
    for order in (["LATER"], ["LATER", "NOW"], ["NOW", "NOW"], ["LATER", "LATER"]):
        out = root / "-".join(order) / "public"
        for name in order:
            code, stderr = finish(start_build(project, out, {"NOW": NOW, "LATER": LATER}[name]))
            assert code == 0, stderr
        found[" ".join(order)] = tree_bytes(out)
    return found


def test_second_build_while_first_holds_the_lock(trees: Trees, tmp_path: Path) -> None:
    project, old, new = trees
    out = old_output(trees, tmp_path)
    marker = tmp_path / "paused"
    first = start_build(project, out, LATER, pause="locked", marker=marker)
    wait_for_marker(first, marker)
    code, stderr = finish(start_build(project, out, LATER))
    assert code == 1
    assert BUSY in stderr and str(out) in stderr
    assert "Traceback" not in stderr
    assert tree_bytes(out) == old  # the refused build wrote nothing
    marker.unlink()
    code, stderr = finish(first)
    assert code == 0, stderr
    assert tree_bytes(out) == new
    assert leftovers(out) == []


@pytest.mark.parametrize("second", ["NOW", "LATER"])
def test_racing_builds_never_corrupt_the_output(
    second: str, trees: Trees, outcomes: dict[str, dict[str, bytes]], tmp_path: Path
) -> None:
    project = trees[0]
    moments = {"NOW": NOW, "LATER": LATER}
    for attempt in range(3):
        out = tmp_path / f"race-{attempt}" / "public"
        processes = [
            ("NOW", start_build(project, out, NOW)),
            (second, start_build(project, out, moments[second])),
        ]
        results = [(name, *finish(process)) for name, process in processes]
        for name, code, stderr in results:
            assert code in (0, 1), (name, stderr)
            if code == 1:
                assert BUSY in stderr, (name, stderr)
        winners = [name for name, code, _ in results if code == 0]
        assert winners
        # The lock serialises the builds, so the output is that of one finishing order.
        orders = {" ".join(winners), " ".join(reversed(winners))}
        assert tree_bytes(out) in [outcomes[order] for order in orders]
        assert leftovers(out) == []


def test_lock_refuses_a_second_build(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    from nieuwsbrief.output import build_lock

    out = tmp_path / "public"
    with build_lock(out):
        result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 1
    assert BUSY in result.output
    assert not out.exists()
    assert run_cli("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
