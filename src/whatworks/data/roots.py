"""Where a collection of review folders lives: one rule, used by every command and loader.

1. a folder given explicitly (``root=`` / ``path=`` in the library, ``--data`` / ``--root`` / ``PATH`` on
   the command line) wins;
2. else ``data/reviews`` in the working directory, when it exists (where ``whatworks new-review``
   writes, and the layout of a checkout);
3. else the copy bundled with the installed package.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

#: The collection looked for in the working directory when no folder is given.
WORKING_COLLECTION = Path("data") / "reviews"


def bundled_root() -> Path:
    """The bundled collection: ``whatworks/_bundled/reviews`` in a wheel, else the checkout's ``data/reviews``.

    Examples
    --------
    >>> bundled_root().name
    'reviews'
    """
    try:
        packaged = resources.files("whatworks") / "_bundled" / "reviews"
        if packaged.is_dir():
            return Path(str(packaged))
    except (ModuleNotFoundError, OSError):  # pragma: no cover - defensive
        pass
    checkout = Path(__file__).resolve().parents[3] / "data" / "reviews"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("bundled review data not found: neither whatworks/_bundled/reviews in the "
                            f"installed package nor {checkout} exists; pass root= explicitly")


@dataclass(frozen=True)
class CollectionRoot:
    """A collection folder and why it was chosen: ``source`` is "given", "working directory" or "bundled"."""

    path: Path
    source: str

    def describe(self) -> str:
        """Where the data come from, in words, without an absolute path (for pages that must not
        depend on the machine): e.g. "data/reviews in the working directory"."""
        if self.source == "bundled":
            return "the data bundled with whatworks"
        if self.source == "working directory":
            return f"{WORKING_COLLECTION.as_posix()} in the working directory"
        return str(self.path)

    def line(self) -> str:
        """One line for the top of a command's output: the absolute folder read, and why."""
        why = {"given": "given", "working directory": f"{WORKING_COLLECTION.as_posix()} in the working directory",
               "bundled": "bundled with whatworks; no data/reviews in the working directory"}[self.source]
        return f"data: {self.path.absolute()} ({why})"


def find_root(path: str | Path | None = None) -> CollectionRoot:
    """The collection to read under the rule of this module.

    Parameters
    ----------
    path : str or Path, optional
        A folder named by the user; ``None`` applies the default (``./data/reviews``, else bundled).

    Raises
    ------
    FileNotFoundError
        If ``path`` is given and is not a folder.

    Examples
    --------
    >>> find_root(bundled_root()).source
    'given'
    """
    if path is not None:
        root = Path(path)
        if not root.is_dir():
            raise FileNotFoundError(f"not a folder: {root}")
        return CollectionRoot(root, "given")
    working = Path.cwd() / WORKING_COLLECTION
    if working.is_dir():
        return CollectionRoot(working, "working directory")
    return CollectionRoot(bundled_root(), "bundled")


def resolve_root(path: str | Path | None) -> Path:
    """The collection folder to read: ``path``, else ``./data/reviews`` when it exists, else the bundled data."""
    return find_root(path).path
