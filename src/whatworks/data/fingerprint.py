"""A fingerprint of a collection: one SHA-256 over the bytes of every file, in sorted order of the paths."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .roots import resolve_root

CHUNK = 1 << 20  # bytes read at a time: memory does not grow with file size


def collection_files(root: str | Path | None = None) -> list[Path]:
    """The files a fingerprint covers: every regular file under ``root`` (not a symbolic link), outside
    hidden folders and ``__pycache__``, sorted by their POSIX path relative to ``root``."""
    base = resolve_root(root)
    out = []
    for p in base.rglob("*"):
        rel = p.relative_to(base)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        if p.is_file() and not p.is_symlink():
            out.append(p)
    return sorted(out, key=lambda p: p.relative_to(base).as_posix())


def collection_fingerprint(root: str | Path | None = None) -> str:
    """SHA-256 (hex) of the bytes of :func:`collection_files`, concatenated in that order.

    The same as ``cd ROOT && find . -type f -not -path '*/.*' -not -path '*/__pycache__/*' | LC_ALL=C sort
    | xargs cat | sha256sum`` for ASCII file names: any change to any byte of any file changes it, and it does
    not depend on where the collection lives.

    Examples
    --------
    >>> len(collection_fingerprint())
    64
    """
    h = hashlib.sha256()
    for p in collection_files(root):
        with open(p, "rb") as fh:
            while chunk := fh.read(CHUNK):
                h.update(chunk)
    return h.hexdigest()
