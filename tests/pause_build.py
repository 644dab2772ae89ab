"""Run ``nieuwsbrief`` stopped at a named publish stage, so a crash test can kill it there.

Usage: ``python tests/pause_build.py STAGE MARKER nieuwsbrief-arguments...``. At ``STAGE`` (one
of ``nieuwsbrief.output.STAGES``) the build writes MARKER and waits while it exists: the test
then kills the build, or deletes MARKER to let it go on. Production code only marks the
stages (``output._reached`` does nothing); this script replaces that no-op.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from nieuwsbrief import output
from nieuwsbrief.cli import main

PAUSE_LIMIT_SECONDS = 120.0


def pause_at(stage: str, marker: Path) -> Callable[[str], None]:
    """Return a replacement for ``output._reached`` that waits at ``stage``."""

    def reached(name: str) -> None:
        if name != stage:
            return
        marker.write_text(name, encoding="utf-8")
        deadline = time.monotonic() + PAUSE_LIMIT_SECONDS
        while marker.exists() and time.monotonic() < deadline:
            time.sleep(0.01)

    return reached


if __name__ == "__main__":
    stage, marker, *arguments = sys.argv[1:]
    if stage not in output.STAGES:
        sys.exit(f"unknown stage {stage!r}; one of {', '.join(output.STAGES)}")
    output._reached = pause_at(stage, Path(marker))
    sys.argv = ["nieuwsbrief", *arguments]
    main()
