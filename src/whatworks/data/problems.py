"""What validation reports: :class:`Problem` records and the :class:`DataValidationError` that carries them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in a data file.

    Attributes
    ----------
    file : str
        Path of the file relative to the collection root, e.g. ``"meier2026/effects.csv"``.
    row : int or None
        1-based data row (the first row after the header is 1), or ``None`` for file-level problems.
    column : str or None
        Column (CSV) or key (``review.toml``) concerned, or ``None``.
    message : str
        What is wrong and, where it helps, how to fix it.
    severity : {"error", "warning"}
        Errors block loading; warnings (e.g. an extreme effect) are reported but do not.

    Examples
    --------
    >>> p = Problem("demo/effects.csv", 3, "sd_t", "must be > 0, got -1.5")
    >>> str(p)
    'demo/effects.csv:3:sd_t: must be > 0, got -1.5'
    """

    file: str
    row: int | None
    column: str | None
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f":{self.row}"
        if self.column:
            where += f":{self.column}"
        tag = "warning: " if self.severity == "warning" else ""
        return f"{where}: {tag}{self.message}"

    @property
    def is_error(self) -> bool:
        """True for problems that block loading."""
        return self.severity == "error"


class DataValidationError(ValueError):
    """Raised by the loaders when data files have errors; nothing is loaded.

    ``problems`` holds every problem found (errors first, then warnings), and ``str(error)`` lists
    them one per line as ``file:row:column: message``.

    Examples
    --------
    >>> err = DataValidationError([Problem("x/review.toml", None, "id", "missing required key")])
    >>> print(err)
    1 problem in the data (1 error, 0 warnings):
      x/review.toml:id: missing required key
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = sort_problems(problems)
        super().__init__(format_problems(self.problems))


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Errors before warnings; within each, by file, row and column (file-level first)."""
    return sorted(problems, key=lambda p: (p.severity != "error", p.file, p.row or 0, p.column or ""))


def summary_line(problems: list[Problem]) -> str:
    """``"3 problems in the data (2 errors, 1 warning)"``."""
    n_err = sum(p.is_error for p in problems)
    n_warn = len(problems) - n_err
    plural = "" if len(problems) == 1 else "s"
    return (f"{len(problems)} problem{plural} in the data ({n_err} error{'' if n_err == 1 else 's'}, "
            f"{n_warn} warning{'' if n_warn == 1 else 's'})")


def format_problems(problems: list[Problem]) -> str:
    """The summary line followed by one indented line per problem."""
    return "\n".join([summary_line(problems) + ":", *(f"  {p}" for p in problems)])
