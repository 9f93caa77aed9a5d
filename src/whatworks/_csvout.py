"""CSV text for spreadsheets: the one writer of every CSV file the project produces.

A cell a spreadsheet would run as a formula (text starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) is prefixed with a single quote, OWASP's rule against CSV injection
(https://owasp.org/www-community/attacks/CSV_Injection). Numbers stay numbers: ``-0.28`` and
``1e-05`` are written as they are, and so is a lone ``-`` (the tables' "not applicable"; one character
carries no formula).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def safe_cell(text: str) -> str:
    """``text`` as a spreadsheet shows it, never as a formula: a single quote before a formula start.

    Examples
    --------
    >>> safe_cell("=HYPERLINK(\\"http://x\\")"), safe_cell("-0.28"), safe_cell("overall")
    ('\\'=HYPERLINK("http://x")', '-0.28', 'overall')
    """
    if len(text) > 1 and text.startswith(FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def csv_text(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """CSV text (``\\n`` line ends, minimal quoting) of ``header`` and ``rows``; every cell is written as
    ``str(cell)`` through :func:`safe_cell` (``None`` as an empty cell).

    Examples
    --------
    >>> print(csv_text(["analysis", "estimate"], [["+cmd|' /C calc'!A0", -0.5]]), end="")
    analysis,estimate
    '+cmd|' /C calc'!A0,-0.5
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([safe_cell(str(x)) for x in header])
    for row in rows:
        writer.writerow(["" if x is None else safe_cell(str(x)) for x in row])
    return buf.getvalue()


def csv_frame(frame: pd.DataFrame, float_format: str | None = None) -> str:
    """CSV text of a DataFrame (no index) through :func:`csv_text`: missing values empty, floats with
    ``float_format`` (e.g. ``"%.6g"``) or their shortest repr, other cells as ``str``.

    Examples
    --------
    >>> import pandas as pd
    >>> print(csv_frame(pd.DataFrame({"cell": ["=1+1", None], "kappa": [0.7712345, float("nan")]}), "%.3g"), end="")
    cell,kappa
    '=1+1,0.771
    ,
    """
    import math

    def cell(x: object) -> object:
        if x is None or (isinstance(x, float) and math.isnan(x)) or type(x).__name__ in ("NAType", "NaTType"):
            return None
        if isinstance(x, float) or type(x).__module__ == "numpy" and "float" in type(x).__name__:
            return float_format % float(x) if float_format else repr(float(x))  # type: ignore[arg-type]
        return x

    return csv_text([str(c) for c in frame.columns], ([cell(x) for x in row] for row in frame.itertuples(index=False)))
