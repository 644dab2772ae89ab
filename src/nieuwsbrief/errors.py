"""The small set of exceptions the library raises; the CLI turns them into messages."""

from __future__ import annotations

from pathlib import Path


class NieuwsbriefError(Exception):
    """Base class for every error a user can fix: bad input, a failed build."""


class InputError(NieuwsbriefError):
    """A file the user wrote is wrong; name the file, the field and the fix."""

    def __init__(
        self, path: Path | str, problem: str, *, field: str | None = None, fix: str | None = None
    ) -> None:
        self.path = Path(path)
        self.field = field
        self.problem = problem
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}"
        if self.field:
            where += f": field '{self.field}'"
        message = f"{where}: {self.problem}"
        if self.fix:
            message += f" ({self.fix})"
        return message


class ConfigError(InputError):
    """schedule.yaml is missing or invalid."""


class ArticleError(InputError):
    """An article file is invalid."""


class BuildError(NieuwsbriefError):
    """The build could not finish (a lock is held, the output folder is unusable, ...)."""
