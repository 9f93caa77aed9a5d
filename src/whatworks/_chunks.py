"""How many datasets go into one :func:`whatworks.model.fit_batch` call in the resampling analyses."""

from __future__ import annotations

#: Cells (datasets x effects) per batch: bounds memory (a few MB per array, so memory grows linearly with
#: the data) and is about the fastest size, because the arrays stay in cache (REML on 10,000 datasets of
#: k = 50: 0.19 s CPU at 2^14 to 2^16 cells, 0.42 s at 2^18, 0.49 s at 2^20).
CHUNK_CELLS = 2**16


def rows_per_chunk(k: int) -> int:
    """Datasets of ``k`` effects per batch."""
    return max(1, CHUNK_CELLS // max(int(k), 1))
