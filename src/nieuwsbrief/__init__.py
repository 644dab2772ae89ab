"""nieuwsbrief: dated Markdown articles in, feeds and a weekly email digest out."""

from __future__ import annotations

__version__ = "0.1.0"
