"""Run the command line interface with ``python -m nieuwsbrief``."""

from __future__ import annotations

from nieuwsbrief.cli import main

main()
