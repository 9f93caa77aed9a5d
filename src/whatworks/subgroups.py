"""Subgroup analyses: :func:`by_subgroup`, with metafor's two ways of handling tau².

``tau2="separate"``: an independent random-effects model per subgroup (:func:`meta_analyze`), and the
test of subgroup differences (Q-between) is the Q statistic of a common-effect (EE) meta-analysis of
the subgroup estimates with their standard errors. ``tau2="common"``: one mixed-effects model with the
subgroup factor as moderator (:func:`whatworks.regression.meta_regress`'s fit), so all subgroups share
one tau², and Q-between is its omnibus moderator test QM (an F test for ``test="knha"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from . import _dist
from . import _validation as v
from ._frames import check_frame
from .estimators import METHODS, Batch
from .model import TESTS, check_effects, fit_batch, meta_analyze
from .regression import RegressionResult, fit_mods
from .results import MetaResult, _fmt, _pval, frame_to_html

TAU2_MODES = ("separate", "common")
#: A subgroup SE below this multiple of sqrt(min vi) is 0 up to rounding: with test="knha" and identical
#: effects the residuals are exactly 0 and only float64 noise (about 1e-16 relative) remains in the scale.
DEGENERATE_SE = 1e-8

DEFINITIONS = {
    "separate": (
        "separate tau2 per subgroup (one random-effects model each); Q-between = Q of a common-effect "
        "(EE) meta-analysis of the subgroup estimates with their standard errors"
    ),
    "common": (
        "one tau2 shared by all subgroups (mixed-effects model with the subgroup factor as moderator); "
        "Q-between = omnibus test QM of that factor (F test for test='knha')"
    ),
}

#: Columns of :meth:`SubgroupResult.to_frame`.
SUBGROUP_COLUMNS = (
    "subgroup", "k", "estimate", "se", "pvalue", "ci_low", "ci_high", "pi_low", "pi_high",
    "tau2", "i2", "q", "q_df", "q_pvalue", "note",
)  # fmt: skip


class Skipped(NamedTuple):
    """Something left out of a subgroup analysis: a row (``kind="row"``, ``key`` = index label) or a
    whole subgroup (``kind="subgroup"``, ``key`` = level), with the reason."""

    kind: str
    key: Any
    reason: str


@dataclass(frozen=True)
class SubgroupResult:
    """Result of :func:`by_subgroup`.

    Attributes
    ----------
    groups : mapping of level -> MetaResult
        One result per fitted subgroup, in sorted level order. With ``tau2="common"`` the estimates
        come from the mixed-effects model (its tau², its test); Q is the within-subgroup Q and I² is
        not defined per subgroup (NaN).
    q_between, q_between_df, q_between_pvalue : float, int, float
        Test of subgroup differences. With ``tau2="common"`` and ``test="knha"`` it is an F statistic on
        (``q_between_df``, ``q_between_df2``) df, otherwise chi-square on ``q_between_df`` df.
    q_between_df2 : int or None
        Denominator df of the F test (common + knha only).
    q_between_note : str
        Why there is no test of subgroup differences (``q_between`` NaN), in words; empty otherwise.
    tau2_mode : {"separate", "common"}
    definition : str
        The definition of the test, in words (also in ``summary()``).
    overall : MetaResult
        The meta-analysis of all usable rows, ignoring subgroups.
    model : RegressionResult or None
        The mixed-effects model (``tau2="common"`` only).
    skipped : tuple of Skipped
        Rows with missing values and subgroups too small to fit, with the reason.
    levels : tuple
        Every subgroup level present in the usable rows, sorted (fitted or skipped).
    counts : mapping of level -> int
        Number of usable effects per level.
    """

    by: str
    groups: Mapping[Any, MetaResult]
    q_between: float
    q_between_df: int
    q_between_df2: int | None
    q_between_pvalue: float
    tau2_mode: str
    definition: str
    overall: MetaResult
    model: RegressionResult | None = field(default=None, repr=False)
    skipped: tuple[Skipped, ...] = ()
    levels: tuple[Any, ...] = ()
    counts: Mapping[Any, int] = field(default_factory=dict, repr=False)
    method: str = "REML"
    test: str = "z"
    level: float = 0.95
    q_between_note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", MappingProxyType(dict(self.groups)))
        object.__setattr__(self, "counts", MappingProxyType(dict(self.counts)))

    def to_frame(self) -> pd.DataFrame:
        """One row per subgroup (skipped ones with their reason in ``note``), then ``"overall"``."""
        reasons = {s.key: s.reason for s in self.skipped if s.kind == "subgroup"}
        rows = []
        for lev in self.levels:
            if lev in self.groups:
                rows.append(_row(lev, self.groups[lev], ""))
            else:
                rows.append({"subgroup": lev, "k": self.counts.get(lev, 0), "note": reasons.get(lev, "")})
        rows.append(_row("overall", self.overall, ""))
        return pd.DataFrame(rows, columns=list(SUBGROUP_COLUMNS)).astype({"k": "Int64", "q_df": "Int64"})

    def _test_line(self) -> str:
        if np.isnan(self.q_between):
            why = self.q_between_note or "fewer than two subgroups were fitted"
            return f"No test of subgroup differences: {why}."
        if self.q_between_df2 is not None:
            stat = f"F(df1 = {self.q_between_df}, df2 = {self.q_between_df2})"
        else:
            stat = f"Q_between(df = {self.q_between_df})"
        return f"Test of subgroup differences: {stat} = {_fmt(self.q_between)}, p = {_pval(self.q_between_pvalue)}"

    def summary(self) -> str:
        """Plain-text table of the subgroups and the test of subgroup differences."""
        model = "Common-effect (EE)" if self.method == "EE" else f"Random-effects ({self.method})"
        lines = [
            f"Subgroup analysis by {self.by!r}: {model}, test = {self.test!r}, tau2 = {self.tau2_mode!r}",
            f"Definition: {self.definition}",
            "",
            self.to_frame().to_string(index=False, float_format=_fmt, na_rep="NA"),
            "",
            self._test_line(),
        ]
        lines += [f"Skipped {s.kind} {s.key!r}: {s.reason}" for s in self.skipped]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"SubgroupResult(by={self.by!r}, tau2_mode={self.tau2_mode!r}, groups={len(self.groups)}, "
            f"q_between={_fmt(self.q_between)}, q_between_pvalue={_fmt(self.q_between_pvalue)}, "
            f"skipped={len(self.skipped)})"
        )

    def _repr_html_(self) -> str:
        lines = [f"Definition: {self.definition}", self._test_line()]
        lines += [f"Skipped {s.kind} {s.key!r}: {s.reason}" for s in self.skipped]
        return frame_to_html(self.to_frame(), f"Subgroups by {self.by} ({self.tau2_mode} tau2)", lines)


def _row(name: Any, r: MetaResult, note: str) -> dict:
    out = {c: getattr(r, c) for c in SUBGROUP_COLUMNS if c not in ("subgroup", "note")}
    return {"subgroup": name, **out, "note": note}


def _sorted_levels(values: pd.Series) -> list:
    uniq = [u.item() if isinstance(u, np.generic) else u for u in pd.unique(values)]
    try:
        return sorted(uniq)
    except TypeError:
        return sorted(uniq, key=str)


def by_subgroup(
    frame: pd.DataFrame,
    by: str,
    *,
    yi: str = "yi",
    vi: str = "vi",
    method: str = "REML",
    test: str = "z",
    tau2: str = "separate",
    level: float = 0.95,
    label: str | None = None,
) -> SubgroupResult:
    """Meta-analysis per subgroup with a test of subgroup differences (metafor's two recipes).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per effect.
    by : str
        Column holding the subgroup of each effect; levels are sorted (R's ``factor()`` order).
    yi, vi : str
        Column names of the effect sizes and sampling variances.
    method : {"REML", "ML", "DL", "PM", "EB", "HS", "SJ", "HE", "EE"}
        tau² estimator (metafor's names).
    test : {"z", "knha"}
        Inference as in :func:`whatworks.meta_analyze`.
    tau2 : {"separate", "common"}
        ``"separate"``: one random-effects model per subgroup, Q-between from a common-effect
        meta-analysis of the subgroup estimates (with their, possibly Knapp-Hartung, SEs).
        ``"common"``: one tau² for all subgroups, i.e. ``rma(yi, vi, mods = ~ factor(by))``;
        Q-between is its QM (F(m, k - p) for ``test="knha"``).
    level : float
        Confidence level (0.95 or 95).
    label : str, optional
        Column of study labels (default: the frame's index).

    Returns
    -------
    SubgroupResult

    Raises
    ------
    ValueError
        Unknown column names (the message lists the available ones), unknown options, invalid
        effects (infinite values, non-positive variances), or (``tau2="common"``) k not larger than
        the number of subgroups.

    Notes
    -----
    Nothing is dropped silently. Rows with a missing ``yi``, ``vi`` or subgroup are left out and
    listed in ``skipped``; with ``tau2="separate"`` a subgroup with k < 2 cannot be fitted by a
    random-effects model (nor with ``test="knha"``, which needs k - 1 >= 1 df) and is listed in
    ``skipped`` too (it stays in ``overall``). With ``tau2="common"`` every level with at least one
    effect is estimable and kept. With fewer than two fitted subgroups there is nothing to compare:
    ``q_between`` and its p-value are NaN and ``q_between_df`` is 0.

    Examples
    --------
    >>> import pandas as pd
    >>> from whatworks.subgroups import by_subgroup
    >>> df = pd.DataFrame({"yi": [-0.9, -1.6, -1.4, -1.4, -0.2, -0.8, -1.6, 0.0, -0.5],
    ...                    "vi": [0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22, 0.004, 0.06],
    ...                    "alloc": ["random", "random", "random", "alternate", "alternate",
    ...                              "systematic", "systematic", "random", "systematic"]})
    >>> res = by_subgroup(df, "alloc", method="REML", tau2="separate")
    >>> list(res.groups), res.q_between_df
    (['alternate', 'random', 'systematic'], 2)
    >>> res.to_frame()["subgroup"].tolist()[-1]
    'overall'
    """
    frame = check_frame(frame, (yi, "yi"), (vi, "vi"), (by, "by"), *([(label, "label")] if label else []))
    method = v.check_option("method", method, METHODS)
    test = v.check_option("test", test, TESTS)
    tau2_mode = v.check_option("tau2", tau2, TAU2_MODES)
    level = v.check_level(level)

    skipped: list[Skipped] = []
    missing = frame[[yi, vi, by]].isna()
    for pos in np.flatnonzero(missing.any(axis=1).to_numpy()):
        cols = [c for c in (yi, vi, by) if missing.iat[pos, missing.columns.get_loc(c)]]
        skipped.append(Skipped("row", frame.index[pos], "missing " + ", ".join(map(str, cols))))
    used = frame.loc[~missing.any(axis=1).to_numpy()]
    if used.empty:
        raise ValueError(f"no rows left: every row has a missing value in {yi!r}, {vi!r} or {by!r}")
    y, s = check_effects(used[yi].to_numpy(), used[vi].to_numpy())
    labels = [str(x) for x in (used[label] if label else used.index)]
    groups = used[by].to_numpy()
    levels = _sorted_levels(used[by])
    overall = meta_analyze(y, s, method=method, test=test, level=level, labels=labels)

    common = dict(by=by, tau2_mode=tau2_mode, definition=DEFINITIONS[tau2_mode], overall=overall,
                  levels=tuple(levels), counts={lev: int((groups == lev).sum()) for lev in levels},
                  method=method, test=test, level=level)  # fmt: skip
    if tau2_mode == "separate":
        return _separate(y, s, labels, groups, skipped, **common)
    return _common(y, s, labels, groups, skipped, **common)


def _separate(y, s, labels, groups, skipped, **common) -> SubgroupResult:
    method, test, level, levels = common["method"], common["test"], common["level"], common["levels"]
    fits: dict[Any, MetaResult] = {}
    for lev in levels:
        sel = groups == lev
        k = int(sel.sum())
        if k < 2 and (method != "EE" or test != "z"):
            why = "a random-effects model" if method != "EE" else f"test={test!r} (k - 1 df)"
            skipped.append(Skipped("subgroup", lev, f"too small to fit {why} (k = {k})"))
            continue
        lab = [labels[i] for i in np.flatnonzero(sel)]
        fits[lev] = meta_analyze(y[sel], s[sel], method=method, test=test, level=level, labels=lab)
    qb = (np.nan, 0, np.nan)
    note = "fewer than two subgroups were fitted" if len(fits) < 2 else ""
    if len(fits) >= 2:
        est = np.array([r.estimate for r in fits.values()])
        se = np.array([r.se for r in fits.values()])
        floor = DEGENERATE_SE * np.sqrt([r.vi.min() for r in fits.values()])
        flat = [str(lev) for lev, r, f in zip(fits, fits.values(), floor) if not r.se > f]
        if flat:  # an inverse-variance weight 1/0: the EE meta-analysis of the estimates is not defined
            note = (f"the standard error of subgroup(s) {', '.join(flat)} is 0 (identical effects with "
                    f"test='knha'), so the estimates cannot be weighted")
        else:
            f = fit_batch(Batch.make(est, se**2), method="EE", test="z", level=level)
            qb = (float(f["q"][0]), int(f["q_df"][0]), float(f["q_pvalue"][0]))
    return SubgroupResult(
        groups=fits,
        q_between=qb[0],
        q_between_df=qb[1],
        q_between_df2=None,
        q_between_pvalue=qb[2],
        skipped=tuple(skipped),
        q_between_note=note,
        **common,
    )


def _common(y, s, labels, groups, skipped, **common) -> SubgroupResult:
    method, test, level, levels = common["method"], common["test"], common["level"], common["levels"]
    k, g = y.size, len(levels)
    if k <= g:
        raise ValueError(f"too few effects for a common-tau2 model: k = {k} for {g} subgroups; need k > {g}")
    onehot = (groups[:, None] == np.array(levels, dtype=object)[None, :]).astype(float)
    X = np.column_stack([np.ones(k), onehot[:, 1:]])  # treatment coding, first level as reference
    names = ("Intercept",) + tuple(f"{common['by']}[T.{lev}]" for lev in levels[1:])
    f = fit_mods(y, s, X, method=method, test=test, level=level, intercept=True)
    crit = f.pop("crit")
    model = RegressionResult(names=names, k=k, p=g, method=method, test=test, level=level,
                             formula=f"~ C({common['by']})", X=X, yi=y, vi=s, **f)  # fmt: skip

    # subgroup means: L beta with L = [1, e_level]; within-subgroup Q from EE fits, all in one batch
    L = np.column_stack([np.ones(g), np.eye(g)[:, 1:]])
    est, vb = L @ model.coef, L @ model.vcov @ L.T
    se = np.sqrt(np.diag(vb))
    within = fit_batch(Batch.make(np.broadcast_to(y, (g, k)), np.broadcast_to(s, (g, k)), present=onehot.T),
                       method="EE", test="z", level=level)  # fmt: skip
    fits = {}
    note = ("common tau2 from the mixed-effects model over all subgroups; Q is the within-subgroup Q; "
            "I2 and H2 are not defined per subgroup")  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):  # se = 0 (identical effects, knha): z = NaN, as meta_analyze
        stats = est / se
    for j, lev in enumerate(levels):
        sel = onehot[:, j] > 0
        w = 1 / (s[sel] + model.tau2)
        half_pi = crit * np.sqrt(se[j] ** 2 + model.tau2)
        fits[lev] = MetaResult(
            k=int(sel.sum()), estimate=float(est[j]), se=float(se[j]), stat=float(stats[j]),
            pvalue=float(_dist.two_sided_p(stats[j], model.df, test)), ci_low=float(est[j] - crit * se[j]),
            ci_high=float(est[j] + crit * se[j]), tau2=model.tau2, se_tau2=model.se_tau2,
            tau2_ci_low=model.tau2_ci_low, tau2_ci_high=model.tau2_ci_high, i2=np.nan, h2=np.nan,
            q=float(within["q"][j]) if within["q_df"][j] > 0 else 0.0, q_df=int(within["q_df"][j]),
            q_pvalue=float(within["q_pvalue"][j]),
            pi_low=float(est[j] - half_pi), pi_high=float(est[j] + half_pi), df=model.df,
            weights=100 * w / w.sum(), yi=y[sel], vi=s[sel], labels=tuple(labels[i] for i in np.flatnonzero(sel)),
            method=method, test=test, level=level, iterations=model.iterations, converged=model.converged,
            notes=(note,),
        )  # fmt: skip
    single = g < 2  # one level: no moderator, so no test of subgroup differences
    return SubgroupResult(
        groups=fits,
        q_between=np.nan if single else model.qm,
        q_between_df=0 if single else model.qm_df,
        q_between_df2=None if single else model.qm_df2,
        q_between_pvalue=np.nan if single else model.qm_pvalue,
        model=model,
        skipped=tuple(skipped),
        **common,
    )
