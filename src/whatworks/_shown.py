"""Display derived from ``to_frame()`` for the result objects of the bias and sensitivity analyses.

A result class defines ``to_frame()``, ``_title()`` and ``_key()`` (the few fields of its ``__repr__``);
:class:`Shown` derives ``summary()``, ``__repr__`` and an escaped ``_repr_html_`` from them, so the
frame stays the single source of every display. ``_lines()`` may add plain-language lines (notes,
warnings) under the table.
"""

from __future__ import annotations

import pandas as pd

from .results import _fmt, frame_to_html


class Shown:
    """Mixin: text, repr and HTML of a result from its ``to_frame()`` (see the module docstring)."""

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _title(self) -> str:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _key(self) -> tuple[str, ...]:
        """Columns of the first frame row shown by ``__repr__``."""
        return ()

    def _lines(self) -> list[str]:
        """Lines printed under the table by ``summary()`` (notes, warnings)."""
        return []

    def summary(self) -> str:
        """Plain-text summary: the title, the frame as a table, then any notes and warnings."""
        table = self.to_frame().to_string(index=False, float_format=_fmt, na_rep="NA")
        return "\n".join([self._title(), "", table, *self._lines()])

    def __repr__(self) -> str:
        frame = self.to_frame()
        row = frame.iloc[0] if len(frame) else {}
        parts = [f"{c}={_fmt(row[c])}" for c in self._key() if c in frame.columns]
        return f"{type(self).__name__}({', '.join(parts + [f'rows={len(frame)}'])})"

    def _repr_html_(self) -> str:
        return frame_to_html(self.to_frame(), self._title())
