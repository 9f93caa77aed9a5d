"""The frozen results of GRADE: one outcome's :class:`Certainty` and the summary-of-findings table."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..results import frame_to_html
from .rules import GradeRules, Judgement, _num

#: Columns of :meth:`CertaintyTable.to_frame` (the summary-of-findings table).
SOF_COLUMNS = (
    "outcome", "k", "n", "estimate", "ci_low", "ci_high", "certainty", "downgrades",
    "risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias", "statement",
)  # fmt: skip


@dataclass(frozen=True)
class Certainty:
    """GRADE certainty of one outcome (result of :func:`grade_certainty`)."""

    outcome: str
    k: int
    n: float
    estimate: float
    ci_low: float
    ci_high: float
    start: str
    judgements: tuple[Judgement, ...]
    certainty: str
    statement: str

    @property
    def downgrades(self) -> int:
        """Levels rated down in all (before the floor at very low)."""
        return sum(j.downgrade for j in self.judgements)

    def judgement(self, domain: str) -> Judgement:
        """The judgement of ``domain`` (one of :data:`DOMAINS`)."""
        return next(j for j in self.judgements if j.domain == domain)

    def to_frame(self) -> pd.DataFrame:
        """One row per domain: domain, downgrade, label, rule, reason."""
        return pd.DataFrame([{"domain": j.domain, "downgrade": j.downgrade, "label": j.label, "rule": j.rule,
                              "reason": j.reason} for j in self.judgements])

    def summary(self) -> str:
        """The certainty, the statement and one line per domain."""
        head = (f"{self.outcome}: {self.certainty} certainty (start {self.start}, rated down "
                f"{self.downgrades}); {self.statement}")
        return head + "\n\n" + self.to_frame().to_string(index=False)

    def __repr__(self) -> str:
        return f"Certainty(outcome={self.outcome!r}, certainty={self.certainty!r}, downgrades={self.downgrades})"

    def _repr_html_(self) -> str:
        return frame_to_html(self.to_frame(), f"{self.outcome}: {self.certainty} certainty. {self.statement}")


@dataclass(frozen=True)
class CertaintyTable:
    """A summary-of-findings table: one :class:`Certainty` per outcome (result of :func:`certainty_table`).

    ``no_evidence`` names outcomes of the question that no trial informs; they are listed (certainty
    "no evidence"), not graded.
    """

    rows: tuple[Certainty, ...]
    rules: GradeRules = field(default_factory=GradeRules)
    no_evidence: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """Columns :data:`SOF_COLUMNS`; each domain column holds "serious (−1): reason" or "not serious: reason"."""
        out = []
        for c in self.rows:
            row: dict[str, object] = {"outcome": c.outcome, "k": c.k, "n": c.n, "estimate": c.estimate,
                                      "ci_low": c.ci_low, "ci_high": c.ci_high, "certainty": c.certainty,
                                      "downgrades": c.downgrades, "statement": c.statement}
            for j in c.judgements:
                mark = f" (\u2212{j.downgrade})" if j.downgrade else ""
                row[j.domain.replace(" ", "_")] = f"{j.label}{mark}: {j.reason}"
            out.append(row)
        for outcome in self.no_evidence:
            out.append({"outcome": outcome, "k": 0, "certainty": "no evidence",
                        "statement": "No trial with a usable effect: not graded."})
        frame = pd.DataFrame(out, columns=list(SOF_COLUMNS))
        return frame.astype({"k": "Int64", "downgrades": "Int64"}).assign(
            n=pd.array([None if pd.isna(x) else int(x) for x in frame["n"]], dtype="Int64"))

    def summary(self) -> str:
        """One line per outcome: effect, certainty, statement."""
        lines = [f"Summary of findings (GRADE; OIS = {self.rules.ois()} participants, delta = {self.rules.delta:g})"]
        for c in self.rows:
            lines.append(f"- {c.outcome}: g {_num(c.estimate, 2)} [{_num(c.ci_low, 2)}, {_num(c.ci_high, 2)}], "
                         f"k = {c.k}; {c.certainty} certainty: {c.statement}")
        lines += [f"- {outcome}: no trial with a usable effect (not graded)" for outcome in self.no_evidence]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"CertaintyTable({', '.join(f'{c.outcome!r}: {c.certainty}' for c in self.rows)})"

    def _repr_html_(self) -> str:
        return frame_to_html(self.to_frame(), "Summary of findings (GRADE)")
