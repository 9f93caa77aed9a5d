"""Analysis settings of the effect sizes: assumptions that the data cannot give, stated and varied.

A pre-post correlation that the source did not print, or the intracluster correlation of a cluster trial
that printed none, is an *analysis setting*, never a value typed into the data (docs/methods.md). The
settings used travel with the effects: every ``yi_note`` names the value it used, and
:meth:`EffectSettings.describe` gives the sentence a methods section prints.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

#: How ``means_prepost`` rows become an SMD: Morris's d_ppc2 (primary) or post-test means only.
PREPOST_METHODS = ("ppc2", "post")


@dataclass(frozen=True)
class EffectSettings:
    """Assumptions used to turn reported statistics into ``yi``/``vi``.

    Attributes
    ----------
    prepost_r : float, default 0.5
        Pre-post correlation assumed for d_ppc2 (Morris 2008) where the source printed none. 0.5 is
        the conventional middle value (e.g. Cochrane Handbook v6, section 6.5.2.8, uses correlations to
        impute change-score SDs and asks for sensitivity analyses); the finding repeats its contrast with
        0.2 and 0.8. A printed ``r_t``/``r_c`` always takes precedence.
    icc : float, default 0.05
        Intracluster correlation assumed for a cluster-randomised trial that printed none. ICCs of
        patient-reported outcomes in primary-care and community cluster trials are mostly below 0.05
        (Adams et al. 2004, median 0.01), so 0.05 errs towards less weight for cluster trials; the finding
        repeats its contrast with 0.01 and 0.10 (Cochrane Handbook v6, section 23.1.4, recommends such
        sensitivity analyses when the ICC is borrowed).
    prepost : {"ppc2", "post"}, default "ppc2"
        ``"post"`` computes the post-test-only Hedges' g for ``means_prepost`` rows (a sensitivity
        analysis; it counts any baseline gap as an effect).

    References
    ----------
    Adams G, Gulliford MC, Ukoumunne OC, Eldridge S, Chinn S, Campbell MJ (2004). Patterns of
    intra-cluster correlation from primary care research to inform study design and analysis.
    *J Clin Epidemiol* 57:785-794.
    Morris SB (2008). Estimating effect sizes from pretest-posttest-control group designs.
    *Organizational Research Methods* 11:364-386.

    Examples
    --------
    >>> from whatworks.data import EffectSettings
    >>> s = EffectSettings(prepost_r=0.2)
    >>> s.prepost_r, s.icc
    (0.2, 0.05)
    >>> print(EffectSettings().describe())  # doctest: +NORMALIZE_WHITESPACE
    Pre-post-control trials: Morris's (2008) d_ppc2 (difference of mean changes over the pooled
    baseline SD), pre-post correlation r = 0.5 where the source printed none. Cluster-randomised
    trials: arm sizes divided by the design effect 1 + (m - 1) ICC, ICC = 0.05 where the source printed
    none.
    """

    prepost_r: float = 0.5
    icc: float = 0.05
    prepost: str = "ppc2"

    def __post_init__(self) -> None:
        for name, low, high in (("prepost_r", -1.0, 1.0), ("icc", 0.0, 1.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or not low <= value <= high:
                raise ValueError(f"{name} must be a number in [{low:g}, {high:g}], got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.prepost not in PREPOST_METHODS:
            raise ValueError(f"unknown prepost={self.prepost!r}; expected one of "
                             f"{', '.join(map(repr, PREPOST_METHODS))}")

    def to_dict(self) -> dict[str, object]:
        """The settings as a plain dict (for a CSV or JSON record of the analysis)."""
        return asdict(self)

    def label(self) -> str:
        """The settings in a few words, for a table cell.

        Examples
        --------
        >>> EffectSettings().label()
        'd_ppc2 for pre-post trials (r = 0.5 where not printed); ICC = 0.05 where not printed'
        """
        prepost = (f"d_ppc2 for pre-post trials (r = {self.prepost_r:g} where not printed)" if self.prepost == "ppc2"
                   else "post-test g for pre-post trials")
        return f"{prepost}; ICC = {self.icc:g} where not printed"

    def describe(self) -> str:
        """The settings in words, for a methods section."""
        if self.prepost == "ppc2":
            prepost = (f"Pre-post-control trials: Morris's (2008) d_ppc2 (difference of mean changes over the pooled "
                       f"baseline SD), pre-post correlation r = {self.prepost_r:g} where the source printed none.")
        else:
            prepost = "Pre-post-control trials: Hedges' g of the post-test means only (baseline ignored)."
        return (f"{prepost} Cluster-randomised trials: arm sizes divided by the design effect 1 + (m - 1) ICC, "
                f"ICC = {self.icc:g} where the source printed none.")


#: The settings of the primary analysis.
DEFAULT_SETTINGS = EffectSettings()
