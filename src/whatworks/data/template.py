"""Scaffolding a new review folder from the schema: review.toml with every key explained, CSV headers."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from .._csvout import csv_text
from . import schema as S

_PREFILLED = {"kind": "review", "metric": "SMD"}
_PRISMA_TEMPLATE = """
# PRISMA 2020 flow of study selection (optional): the counts as the review's flow diagram or your search log
# gives them. A whole number >= 0 or "not recorded"; never an estimate. `whatworks validate` checks the
# arithmetic (identified - duplicates = screened, screened - excluded = sought, sought - not retrieved =
# assessed, assessed - excluded = reports included). Remove the leading '# ' to use it.
# [prisma]
# duplicates_removed = 0
# records_screened = 0
# records_excluded = 0
# reports_sought = 0
# reports_not_retrieved = 0
# reports_assessed = 0
# studies_included = 0
# reports_included = 0
# [prisma.identified]            # records identified, per source
# MEDLINE = 0
# [prisma.reports_excluded]      # reports excluded, per reason
# "no loneliness outcome" = 0"""


def review_toml_template(review_id: str, *, today: _dt.date | None = None) -> str:
    """Text of a ``review.toml`` for ``review_id``: every key, a comment saying what it holds.

    Examples
    --------
    >>> print(review_toml_template("smith2027").splitlines()[2])
    # id (required): equals the folder name; lowercase letters, digits and _
    """
    today = today or _dt.date.today()
    lines = [
        f"# Metadata of the review {review_id}. Schema: docs/data-schema.md; check with `whatworks validate`.",
        "# Fill every required key; delete optional keys you do not use. Strings in double quotes.",
    ]
    for key in S.REVIEW_KEYS:
        if key.name == "prisma":
            continue  # a table: written last, commented out
        need = "required" if key.required else "optional"
        if key.name == "metric":
            need = "required with effects.csv"
        vocab = f" [one of: {', '.join(key.vocab)}]" if key.vocab else ""
        lines.append(f"# {key.name} ({need}): {key.description}{vocab}")
        value = {"id": review_id, "coded_on": today.isoformat()}.get(key.name, _PREFILLED.get(key.name, ""))
        lines.append(f'{key.name} = "{value}"')
    return "\n".join(lines + _PRISMA_TEMPLATE.splitlines()) + "\n"


def scaffold(review_id: str, root: str | Path) -> Path:
    """Create ``root/review_id`` with a ``review.toml`` template and the headers of the CSV files.

    The CSV files are effects.csv, pooled.csv and risk_of_bias.csv (RoB 2 judgements, one row per
    assessed trial or result); delete those you do not fill.

    Parameters
    ----------
    review_id : str
        The new review's id (lowercase letters, digits and ``_``, e.g. ``smith2027``).
    root : str or Path
        The collection folder, e.g. ``data/reviews``; it must exist.

    Returns
    -------
    Path
        The new folder.

    Raises
    ------
    ValueError
        If ``review_id`` is not a valid id.
    FileExistsError
        If the folder already exists (nothing is overwritten).
    FileNotFoundError
        If ``root`` does not exist.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     sorted(p.name for p in scaffold("smith2027", tmp).iterdir())
    ['effects.csv', 'pooled.csv', 'review.toml', 'risk_of_bias.csv']
    """
    if not S.REVIEW_ID_PATTERN.match(review_id):
        raise ValueError(f"invalid review id {review_id!r}: use lowercase letters, digits and _, starting "
                         "with a letter (e.g. smith2027)")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"collection folder {root} does not exist (pass --root DIR)")
    folder = root / review_id
    if folder.exists():
        raise FileExistsError(f"{folder} already exists; not overwriting it")
    folder.mkdir()
    (folder / S.REVIEW_FILE).write_text(review_toml_template(review_id), encoding="utf-8")
    (folder / S.EFFECTS_FILE).write_text(csv_text(S.column_names(S.EFFECT_COLUMNS), []), encoding="utf-8")
    (folder / S.POOLED_FILE).write_text(csv_text(S.column_names(S.POOLED_COLUMNS), []), encoding="utf-8")
    (folder / S.RISK_OF_BIAS_FILE).write_text(csv_text(S.column_names(S.RISK_OF_BIAS_COLUMNS), []),
                                              encoding="utf-8")
    return folder
