"""Writes small SYNTHETIC review collections for tests (every number is made up).

``write_collection(root, trials, pooled=..., second=...)`` lays out ``root/living`` (and optionally
``root/other_review``, a second folder re-coding some trials, with published pooled rows) the way
``data/reviews`` is laid out, so that the report and the loader read it like real data.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from whatworks.data import schema as S

URL = "https://example.org/synthetic-fixture"
TOML = '''# SYNTHETIC test collection (numbers made up; tests/collection_builder.py).
id = "{id}"
title = "Synthetic {kind} for tests"
kind = "{kind}"
citation = "Synthetic fixture for the whatworks test suite."
url = "{url}"
scope = "made-up trials"
metric = "SMD"
sign_convention = "negative = less lonely"
coded_by = "whatworks tests"
coded_on = "2026-11-27"
'''


@dataclass(frozen=True)
class Trial:
    """One made-up trial: ``g`` (negative = less lonely) with arm sizes, or an odds ratio with CI.

    ``n``: ``"arms"`` (n per arm), ``"total"`` (only ``n_total``) or ``"none"``. With ``stat="g"`` and
    no arm sizes the row has no computable g (it stays in the data, out of pooling).
    """

    study_id: str
    year: int
    strategy: str = "social_cognition"
    design: str = "rct"
    control: str = "waitlist"
    g: float = -0.3
    n_t: int = 40
    n_c: int = 40
    n: str = "arms"
    stat: str = "g"  # "g" or "or_ci"
    exclude: bool = False


def effect_row(review: str, t: Trial, suffix: str = "a") -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(S.column_names(S.EFFECT_COLUMNS), "")
    row.update(review=review, effect_id=f"{t.study_id}_{suffix}", study_id=t.study_id,
               study=f"{t.study_id.rstrip('0123456789').title()} et al. ({t.year}) [synthetic]", year=t.year,
               design=t.design, strategy=t.strategy, strategy_reason="synthetic", borderline="false",
               control=t.control, stat_type=t.stat, sign_convention="higher_lonelier", source_url=URL,
               locator="synthetic", hand="first", exclude=str(t.exclude).lower(),
               exclude_reason="synthetic exclusion" if t.exclude else "", notes="SYNTHETIC, not data")
    if t.n == "arms":
        row.update(n_treatment=t.n_t, n_control=t.n_c)
    elif t.n == "total":
        row.update(n_total=t.n_t + t.n_c)
    if t.stat == "g":
        row["es"] = t.g
    else:  # an odds ratio with a 95% CI; log OR = g * pi / sqrt(3) (Chinn 2000), SE from the arm sizes
        import math

        log_or = t.g * math.pi / math.sqrt(3)
        se = math.pi / math.sqrt(3) * math.sqrt(1 / t.n_t + 1 / t.n_c)
        row.update(es=f"{math.exp(log_or):.4f}", es_ci_low=f"{math.exp(log_or - 1.96 * se):.4f}",
                   es_ci_high=f"{math.exp(log_or + 1.96 * se):.4f}")
    return row


def pooled_row(review: str, analysis: str, strategy: str, estimate: float, half: float, metric: str = "SMD",
               sign: str = "negative_less_lonely", k: int = 3) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(S.column_names(S.POOLED_COLUMNS), "")
    row.update(review=review, analysis=analysis, strategy=strategy, subgroup_variable="strategy" if strategy else "",
               subgroup=strategy, design="rct", k=k, estimate=estimate, ci_low=round(estimate - half, 4),
               ci_high=round(estimate + half, 4), metric=metric, sign_convention=sign, model="random",
               hand="first", reliability="primary", source_url=URL, locator="synthetic", notes="SYNTHETIC")
    if metric == "OR":
        row.update(estimate=1.2, ci_low=0.9, ci_high=1.6)
    return row


def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict[str, object]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, list(columns), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def write_folder(root: Path, review: str, kind: str, trials: Sequence[Trial],
                 pooled: Sequence[dict[str, object]] = ()) -> Path:
    folder = root / review
    folder.mkdir(parents=True, exist_ok=True)
    (folder / S.REVIEW_FILE).write_text(TOML.format(id=review, kind=kind, url=URL), encoding="utf-8")
    if trials or not pooled:
        _write_csv(folder / S.EFFECTS_FILE, S.column_names(S.EFFECT_COLUMNS), [effect_row(review, t) for t in trials])
    if pooled:
        _write_csv(folder / S.POOLED_FILE, S.column_names(S.POOLED_COLUMNS), pooled)
    return folder


def write_collection(root: Path, trials: Sequence[Trial], *, second: Sequence[Trial] = (),
                     pooled: Sequence[dict[str, object]] = ()) -> Path:
    """``root/living`` with ``trials``; ``root/other_review`` with ``second`` and ``pooled`` when given."""
    root.mkdir(parents=True, exist_ok=True)
    write_folder(root, "living", "living", trials)
    if second or pooled:
        write_folder(root, "other_review", "review", second, pooled)
    return root
