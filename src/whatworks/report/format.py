"""How numbers and words look on the page: one place for minus signs, p-values, counts, headers and tables.

Every table of ``report.html`` goes through :func:`html_table`: readable column headers instead of the
CSV's machine names (``ci_low`` -> part of "Estimate [95% CI]", ``tau2`` -> "τ²", ``q_pvalue`` ->
"Heterogeneity p"), vocabulary codes as words ("Opportunities for social contact", never
``social_access``), a typographic minus, thousands separators, I² in percent, "< 0.001" for small
p-values, long notes folded behind ``<details>``, review ids as linked citations, and every table in a
box that scrolls on a narrow screen. The CSV files keep the machine names.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, SupportsFloat, cast

import numpy as np
import pandas as pd

from ..plots import _style as st

if TYPE_CHECKING:  # pragma: no cover
    from .refs import References

MINUS = st.MINUS


class Markup(str):
    """Text that is already HTML (escaped where needed): :func:`html_table` inserts it as is."""


def esc(text: object) -> str:
    """HTML-escaped text (a :class:`Markup` is returned unchanged)."""
    return str(text) if isinstance(text, Markup) else html.escape(str(text))


def missing(x: object) -> bool:
    return x is None or x is pd.NA or (not isinstance(x, str) and bool(pd.isna(x)))  # type: ignore[arg-type]


def num(x: object, digits: int = 2) -> str:
    """A number with a typographic minus, ``digits`` decimals; empty when missing."""
    if missing(x):
        return ""
    return st.num(float(cast(SupportsFloat, x)), digits)


def count(x: object) -> str:
    """A count with thousands separators (``3,118``); empty when missing."""
    if missing(x):
        return ""
    return f"{int(round(float(cast(SupportsFloat, x)))):,}"


def pvalue(p: object) -> str:
    """``"< 0.001"`` or three decimals; empty when missing."""
    if missing(p):
        return ""
    q = float(cast(SupportsFloat, p))
    return "< 0.001" if q < 0.001 else f"{q:.3f}"


def p_text(p: object) -> str:
    """``"p < 0.001"`` or ``"p = 0.034"`` (``"p not available"`` when missing)."""
    if missing(p):
        return "p not available"
    s = pvalue(p)
    return f"p {s}" if s.startswith("<") else f"p = {s}"


def percent(x: object, digits: int = 0) -> str:
    """``"48%"``; empty when missing."""
    if missing(x):
        return ""
    return f"{float(cast(SupportsFloat, x)):.{digits}f}%"


def interval(est: object, lo: object, hi: object, digits: int = 2) -> str:
    """``"−0.28 [−0.49, −0.08]"``, or the estimate alone when the interval is missing."""
    if missing(est):
        return f"[{num(lo, digits)}, {num(hi, digits)}]" if not (missing(lo) or missing(hi)) else ""
    if missing(lo) or missing(hi):
        return num(est, digits)
    return f"{num(est, digits)} [{num(lo, digits)}, {num(hi, digits)}]"


def signed(text: str) -> str:
    """Hyphen-minus before a digit made typographic: ``"-0.05 [-0.29, 0.20]"`` -> ``"−0.05 [−0.29, 0.20]"``."""
    return re.sub(r"(?<![\w.])-(?=\.?\d)", MINUS, text)


# --- vocabulary -----------------------------------------------------------------------------------

#: The combined comparison of the finding, in words.
COMBINED = {"social_support + social_access + social_skills": "Support, contact and skills combined"}


def label(code: object) -> str:
    """A vocabulary code as a cell text: strategies by their short names, other codes in words."""
    s = str(code)
    if s in COMBINED:
        return COMBINED[s]
    if s in st.STRATEGY_SHORT:
        return st.STRATEGY_SHORT[s]
    if s in st.WORDS:
        w = st.WORDS[s]
        return w[:1].upper() + w[1:]
    return s


_CODE = re.compile(r"\b(" + "|".join(sorted({*st.STRATEGY_SHORT, *(w for w in st.WORDS if "_" in w)},
                                               key=len, reverse=True)) + r")\b")


def words(text: object) -> str:
    """Vocabulary codes inside a sentence replaced by words (``social_access`` -> "opportunities for social
    contact"; ``usual_care`` -> "usual care"), ``knha`` -> "Knapp-Hartung", and typographic minus signs."""
    s = str(text)
    for code, w in COMBINED.items():
        s = s.replace(code, w.lower())

    def repl(m: re.Match[str]) -> str:
        code = m.group(1)
        if code in st.STRATEGY_SHORT:
            return st.STRATEGY_SHORT[code].lower()
        return st.WORDS.get(code, code.replace("_", " "))

    s = _CODE.sub(repl, s)
    s = re.sub(r"\bknha\b", "Knapp-Hartung", s)
    s = re.sub(r"\btau2\b", "τ²", s)
    s = s.replace(">=", "≥").replace("<=", "≤").replace("trial(s)", "trials").replace("row(s)", "rows")
    return signed(s)


# --- tables ----------------------------------------------------------------------------------------

#: Column headers of the HTML tables (the CSV files keep the machine names).
HEADERS = {
    "strategy": "Strategy", "subgroup": "Strategy", "comparison": "Compared with", "reference": "Reference",
    "k": "Trials (k)", "n": "Participants (n)", "n_unknown": "Effects without n", "estimate": "g",
    "difference": "Difference in g", "se": "SE", "pvalue": "p", "p_value": "p", "q_pvalue": "Heterogeneity p",
    "tau2": "τ²", "i2": "I²", "q": "Q", "q_df": "Q df", "k_reference": "Trials, social cognition",
    "k_comparison": "Trials, comparison", "n_reference": "Participants, social cognition",
    "n_comparison": "Participants, comparison", "df": "df", "inference": "Inference", "verdict": "Verdict",
    "reason": "Reason", "note": "Note", "notes": "Notes", "analysis": "Analysis", "setting": "Setting",
    "quantity": "Quantity", "review": "Review", "source": "Source", "metric": "Metric", "design": "Design",
    "hand": "First- or second-hand", "reliability": "Reliability", "agreement": "Agreement",
    "explanation": "Why they may differ", "claim_id": "Claim", "claim": "Claim", "grade": "Grade",
    "kind": "Kind", "title": "Title", "n_effects": "Coded effects", "n_pooled_effects": "Poolable effects",
    "n_published": "Published results", "n_reviews": "Reviews", "study": "Trial", "reviews": "Coded in",
    "n_shared": "Shared trials", "cca": "CCA (%)", "method": "Estimator", "test": "Test", "rows": "Rows",
    "review_a": "Review", "review_b": "Review", "n_a": "Trials in first", "n_b": "Trials in second",
}  # fmt: skip
COUNT_COLUMNS = {"k", "n", "n_unknown", "k_reference", "k_comparison", "n_reference", "n_comparison", "q_df",
                 "n_effects", "n_pooled_effects", "n_published", "n_reviews", "n_shared", "rows", "n_a", "n_b"}
P_COLUMNS = {"pvalue", "p_value", "q_pvalue"}
PERCENT_COLUMNS = {"i2", "cca"}
CODE_COLUMNS = {"strategy", "subgroup", "comparison", "reference", "design", "metric", "hand", "kind",
                "control", "delivery_mode", "age_band"}
NOTE_COLUMNS = {"note", "notes", "explanation", "reason"}
NUMBER_COLUMNS = {"tau2", "se", "q", "df", "estimate", "difference", "value", "year"}
ESTIMATE_COLUMNS = ("estimate", "difference")
FOLD_AT = 90  # characters of a note shown before the rest is folded behind <details>


def fold(text: object, limit: int = FOLD_AT) -> Markup:
    """A note: its first clause visible, the rest behind ``<details>`` (short notes whole)."""
    s = words(text).strip()
    if len(s) <= limit:
        return Markup(esc(s))
    cut = [i for i in (s.find("; "), s.find(". ")) if 0 < i <= limit]
    i = min(cut) if cut else s.rfind(" ", 0, limit)
    i = i if i > 0 else limit
    head, rest = s[:i].rstrip(";. "), s[i:].lstrip(";. ")
    return Markup(f"{esc(head)} <details><summary>more</summary>{esc(rest)}</details>")


def _merged(frame: pd.DataFrame, level: float) -> pd.DataFrame:
    """``estimate``/``difference`` with ``ci_low``/``ci_high`` as one column, ``pi_low``/``pi_high`` as another."""
    out = frame.copy()
    pct = f"{100 * level:g}%"
    est = next((c for c in ESTIMATE_COLUMNS if c in out.columns), None)
    if est and {"ci_low", "ci_high"} <= set(out.columns):
        name = f"{HEADERS.get(est, est)} [{pct} CI]"
        out[est] = [interval(e, lo, hi) for e, lo, hi in zip(out[est], out["ci_low"], out["ci_high"], strict=True)]
        out = out.drop(columns=["ci_low", "ci_high"]).rename(columns={est: name})
    if {"pi_low", "pi_high"} <= set(out.columns):
        i = list(out.columns).index("pi_low")
        pi = ["" if missing(a) or missing(b) else f"[{num(a)}, {num(b)}]"
              for a, b in zip(out["pi_low"], out["pi_high"], strict=True)]
        out = out.drop(columns=["pi_low", "pi_high"])
        out.insert(i, f"{pct} prediction interval", pi)
    return out


def cell(col: str, x: object, refs: References | None = None, digits: int = 2) -> str:
    """One cell of an HTML table as HTML, formatted by its column's name."""
    if isinstance(x, Markup):
        return str(x)
    if missing(x):
        return ""
    if col in COUNT_COLUMNS and not isinstance(x, str):
        return count(x)
    if col in P_COLUMNS:
        return pvalue(x)
    if col in PERCENT_COLUMNS and not isinstance(x, str):
        return percent(x)
    if col in ("review", "source", "review_a", "review_b") and refs is not None and refs.known(str(x)):
        return refs.cite(str(x))
    if col in NOTE_COLUMNS:
        return str(fold(x))
    if col in CODE_COLUMNS:
        return esc(label(x))
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (float, np.floating)):
        return esc(num(x, 3 if col in ("tau2", "se") else digits))
    if isinstance(x, (int, np.integer)):
        return esc(f"{int(x):,}" if abs(int(x)) >= 10000 else str(int(x)))
    return esc(words(x))


def html_table(
    frame: pd.DataFrame,
    digits: int = 2,
    formats: Mapping[str, Callable[[object], str]] | None = None,
    *,
    caption: str | None = None,
    refs: References | None = None,
    level: float = 0.95,
    merge: bool = True,
    headers: Mapping[str, str] | None = None,
    nowrap: Sequence[str] = (),
    reflow: bool = False,
) -> str:
    """An HTML table in a scrolling box, formatted for people (see the module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows; column names are machine names (:data:`HEADERS` gives the header shown).
    digits : int
        Decimals of other numbers.
    formats : mapping of column -> callable, optional
        Per-column override: value -> text (escaped; return a :class:`Markup` for HTML).
    caption : str, optional
        The table's caption (the page numbers it "Table N.").
    refs : References, optional
        Review ids in ``review``/``source`` columns become linked citations.
    level : float
        Confidence level named in merged interval headers.
    merge : bool
        Merge estimate + CI and the prediction interval bounds into one column each.
    headers : mapping, optional
        Header overrides for this table.
    nowrap : sequence of str
        More columns whose cells must not wrap (counts, p-values, estimates and intervals never wrap).
    reflow : bool
        On a narrow screen show each row as a block of "header: value" lines instead of scrolling (for
        tables of sentences: claims, summary of findings).
    """
    data = _merged(frame, level) if merge else frame.copy()
    names = {**HEADERS, **(headers or {})}
    cols = [str(c) for c in data.columns]

    def fmt(col: str, x: object) -> str:
        if formats and col in formats and not missing(x):
            out = formats[col](x)
            return str(out) if isinstance(out, Markup) else esc(out)
        return cell(col, x, refs, digits)

    def header(c: str) -> str:
        if c in names:
            return names[c]
        return c[:1].upper() + c[1:].replace("_", " ") if re.fullmatch(r"[a-z0-9_]+", c) else c

    numeric = {c for c in cols if c in COUNT_COLUMNS | P_COLUMNS | PERCENT_COLUMNS | NUMBER_COLUMNS
               or c in nowrap or "[" in c or "prediction interval" in c}
    head = "".join(f'<th scope="col">{esc(header(c))}</th>' for c in cols)
    td = {c: (f'<td data-label="{esc(header(c))}"' if reflow else "<td") + (' class="num">' if c in numeric else ">")
          for c in cols}
    body = "".join("<tr>" + "".join(f"{td[c]}{fmt(c, v)}</td>" for c, v in zip(cols, row, strict=True)) + "</tr>"
                   for row in data.itertuples(index=False))
    cap = f'<p class="tcaption">{esc(caption)}</p>' if caption else ""
    cls = ' class="reflow"' if reflow else ""
    return (f'{cap}<div class="table-wrap"><table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
            f"</div>")


def legend(items: Mapping[str, str], title: str = "Legend") -> str:
    """A definition list explaining codes, grades or abbreviations where they appear."""
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items.items())
    return f'<dl class="legend" aria-label="{esc(title)}">{rows}</dl>'


def finite(x: object) -> bool:
    return not missing(x) and math.isfinite(float(cast(SupportsFloat, x)))
