"""Rendering figures to bytes: deterministic files, optionally in forked processes."""

from __future__ import annotations

import io
import multiprocessing
import os
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

DPI = 150


def render_figure(fig: Figure, fmt: str, dpi: int = DPI) -> bytes:
    """The bytes of ``fig`` saved as ``fmt`` ("png" or "svg"), identical across runs."""
    from ..plots import deterministic

    buf = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    with deterministic():
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")
    return buf.getvalue()


def default_jobs() -> int:
    """Processes for rendering: up to 4 on Linux (figures are shared by ``fork``), else 1."""
    if not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(4, len(os.sched_getaffinity(0))))


_PENDING: list[Figure] = []  # figures handed to forked render processes


def _render_one(task: tuple[int, tuple[str, ...]]) -> tuple[int, dict[str, bytes]]:
    i, formats = task
    return i, {fmt: render_figure(_PENDING[i], fmt) for fmt in formats}


def render_all(figures: Sequence[Figure], formats: Sequence[str], jobs: int = 1) -> list[dict[str, bytes]]:
    """Render every figure in every format; with ``jobs > 1``, in forked processes (largest first).

    Each figure is rendered by exactly one process with the same settings, so the bytes are the same
    whatever ``jobs`` is.
    """
    formats = tuple(formats)
    if jobs <= 1 or len(figures) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [{fmt: render_figure(fig, fmt) for fmt in formats} for fig in figures]
    order = sorted(range(len(figures)), key=lambda i: -float(np.prod(figures[i].get_size_inches())))
    _PENDING[:] = list(figures)
    try:
        with warnings.catch_warnings():
            # Python >= 3.12 warns about fork() in a process with (BLAS) threads; the children only render
            warnings.filterwarnings("ignore", message=".*multi-threaded.*fork", category=DeprecationWarning)
            with multiprocessing.get_context("fork").Pool(min(jobs, len(figures))) as pool:
                results = dict(pool.imap_unordered(_render_one, [(i, formats) for i in order], chunksize=1))
    finally:
        _PENDING.clear()
    return [results[i] for i in range(len(figures))]
