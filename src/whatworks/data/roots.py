"""Where a collection of review folders lives: the bundled data, or a folder the user names."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


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


def resolve_root(path: str | Path | None) -> Path:
    """The collection folder to read: ``path``, or the bundled data when ``None``."""
    if path is None:
        return bundled_root()
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"not a folder: {root}")
    return root
