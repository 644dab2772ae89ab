"""The libraries whose code makes nieuwsbrief's output, found without importing them.

Every cache and shortcut keys on them as it keys on the package's own code: upgrading
markdown-it, nh3 or feedgen can change output bytes, and a build after the upgrade must not
hand back what the old versions made. An upgrade (or any reinstall) rewrites a library's
files, so its module file's inode, size or times change; that is all these keys look at.
A reinstall of the same version therefore costs one full build, never a stale output.
"""

from __future__ import annotations

import os

# Click prints the report a stopped build replays; the others render outputs or read inputs.
DEPENDENCIES = (
    "click", "css_inline", "feedgen", "jinja2", "lxml", "markdown_it", "markupsafe",
    "mdurl", "mjml", "nh3", "yaml",
)  # fmt: skip


def module_files() -> list[tuple[str, str]]:
    """Return each dependency's module file, by name (``<name>`` when it is not found)."""
    from importlib.util import find_spec

    found = []
    for name in DEPENDENCIES:
        try:
            spec = find_spec(name)
        except (ImportError, ValueError):
            spec = None
        found.append((name, spec.origin if spec is not None and spec.origin else f"<{name}>"))
    return found


def fingerprint() -> list[list[object]]:
    """Return what identifies the installed dependencies: each module file's stat."""
    rows: list[list[object]] = []
    for name, origin in module_files():
        try:
            info = os.stat(origin)  # noqa: PTH116 (a path as text, as find_spec gives it)
        except OSError:
            rows.append([name, origin, None])
            continue
        rows.append([name, origin, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns])
    return rows
