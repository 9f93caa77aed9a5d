"""The dataset schema, defined once: files, columns, types, vocabularies and review.toml keys.

Everything else reads these tables: the validator (:mod:`whatworks.data.validate`), the loader
(:mod:`whatworks.data.load`), the scaffolding of new reviews (:mod:`whatworks.data.template`) and the
documentation (``docs/data-schema.md`` explains the same rules in prose). Change a rule here and every
consumer follows.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Literal

from .. import rob as _rob

ColumnType = Literal["str", "int", "float", "bool", "vocab", "url"]

# --- vocabularies -------------------------------------------------------------------------------

STRATEGIES = (
    "social_cognition",
    "social_support",
    "social_access",
    "social_skills",
    "mindfulness_acceptance",
    "multicomponent",
    "other",
)
#: The strategies in words, for people (report, README, CLI): Masi et al. 2011's four, then the others.
STRATEGY_LABELS = {
    "social_cognition": "Addressing maladaptive social cognition",
    "social_support": "Enhancing social support",
    "social_access": "Opportunities for social contact",
    "social_skills": "Improving social skills",
    "mindfulness_acceptance": "Mindfulness and acceptance",
    "multicomponent": "Multicomponent programmes",
    "other": "Other interventions",
}
DESIGNS = ("rct", "non_randomised", "single_group")
AGE_BANDS = ("children", "adolescents", "young_adults", "adults", "older_adults", "mixed", "unknown")
YES_NO_UNKNOWN = ("yes", "no", "unknown")
DELIVERY_FORMATS = ("group", "individual", "mixed", "unknown")
DELIVERY_MODES = ("online", "in_person", "phone", "mixed", "unknown")
CONTROLS = ("waitlist", "usual_care", "no_treatment", "active", "attention", "none", "unknown")
STAT_TYPES = ("means_post", "means_prepost", "d", "g", "t", "f", "md_ci", "or_ci", "smcc_diff", "other")
SIGN_CONVENTIONS = ("higher_lonelier", "higher_less_lonely", "undirected")
FAVOURS = ("treatment", "control", "unknown")
HANDS = ("first", "second")
REVIEW_KINDS = ("review", "living")
REVIEW_METRICS = ("SMD", "SMCC_diff", "MD")
POOLED_DESIGNS = (*DESIGNS, "mixed", "unknown")
POOLED_METRICS = ("SMD", "g", "d", "MD", "OR", "SMCC_diff", "unknown")
POOLED_SIGNS = ("negative_less_lonely", "positive_less_lonely", "lost")
POOLED_MODELS = ("random", "fixed", "unknown")
RELIABILITIES = ("primary", "secondary", "ai_summary", "repository_output")
N_BASES = ("analysed", "randomised", "unknown")
RANDOMISATION_UNITS = ("individual", "cluster", "unknown")
#: Role of a row's timepoint: the first assessment after the intervention ended, or a later one.
TIMEPOINT_ROLES = ("post", "follow_up")
#: Risk-of-bias tools, judgements and RoB 2 domains (RoB 2: Sterne et al. 2019; ROBINS-I: Sterne et al.
#: 2016), defined in :mod:`whatworks.rob` with the overall algorithm that uses them.
ROB_TOOLS = _rob.ROB_TOOLS
ROB2_JUDGEMENTS = _rob.ROB2_JUDGEMENTS
ROBINS_I_JUDGEMENTS = _rob.ROBINS_I_JUDGEMENTS
ROB2_DOMAINS = _rob.ROB2_DOMAINS
#: ``rob_overall`` of an effect row without an assessment in ``risk_of_bias.csv``.
ROB_NOT_ASSESSED = "not_assessed"
#: What the judgements of an assessment rest on: the trial's full report, only the trial's own abstract,
#: registry entry or protocol (no full methods), or only another review's extraction.
ROB_SOURCE_BASES = ("full_report", "abstract", "second_hand")

#: Pattern of review ids (folder names) and of ``study_id`` values.
REVIEW_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
STUDY_ID_PATTERN = re.compile(r"^[a-z][a-z_]*[0-9]{4}[a-z]?$")
#: Pattern of ``effect_id`` values: lowercase ASCII letters, digits and _, starting with a letter, at most
#: 64 characters (identifiers reach CSV outputs and file names; nothing a spreadsheet could run).
EFFECT_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
#: An ISO date, YYYY-MM-DD (``coded_on``, ``assessed_on``, ``resolved_on``).
ISO_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_iso_date(text: str) -> bool:
    """Whether ``text`` is a real calendar date written YYYY-MM-DD.

    Examples
    --------
    >>> is_iso_date("2026-12-01"), is_iso_date("2026-02-30"), is_iso_date("1.12.2026")
    (True, False, False)
    """
    if not ISO_DATE_PATTERN.match(text):
        return False
    try:
        _dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


#: Effects larger than this (in absolute value, standardised metrics only) are flagged as warnings.
EXTREME_EFFECT = 3.0


@dataclass(frozen=True)
class Column:
    """One column of a data file.

    ``required`` means the column must be present in the header; ``nonempty`` that every row must
    fill it. ``vocab`` lists the allowed values of a ``"vocab"`` column.
    """

    name: str
    type: ColumnType
    description: str
    required: bool = False
    nonempty: bool = False
    vocab: tuple[str, ...] = ()
    minimum: float | None = None  # inclusive bounds for numbers
    maximum: float | None = None
    positive: bool = False  # strictly > 0


def _c(name: str, type_: ColumnType, description: str, *, req: bool = False, nonempty: bool = False,
       vocab: tuple[str, ...] = (), minimum: float | None = None, maximum: float | None = None,
       positive: bool = False) -> Column:
    return Column(name, type_, description, req, nonempty, vocab, minimum, maximum, positive)


EFFECT_COLUMNS: tuple[Column, ...] = (
    # identity and design
    _c("review", "str", "equals the folder name", req=True, nonempty=True),
    _c("effect_id", "str", "unique within the file; lowercase letters, digits and _, e.g. kall2021_wl", req=True,
       nonempty=True),
    _c("study_id", "str", "canonical trial id: surname + year (+ a/b), e.g. kall2021", req=True, nonempty=True),
    _c("study", "str", "label as printed by the source", req=True, nonempty=True),
    _c("year", "int", "publication year", req=True, minimum=1900, maximum=2100),
    _c("country", "str", "may be empty"),
    _c("design", "vocab", "study design", req=True, nonempty=True, vocab=DESIGNS),
    _c("population", "str", "as described by the source"),
    _c("age_band", "vocab", "age band of the sample", vocab=AGE_BANDS),
    _c("clinical", "vocab", "clinical / mental-health population", vocab=YES_NO_UNKNOWN),
    # intervention
    _c("strategy", "vocab", "canonical strategy", req=True, nonempty=True, vocab=STRATEGIES),
    _c("strategy_source_label", "str", "the source's own label for the intervention"),
    _c("strategy_reason", "str", "the coder's reason for the strategy", req=True, nonempty=True),
    _c("borderline", "bool", "true when the strategy is arguable"),
    _c("intervention", "str", "short description"),
    _c("delivery_format", "vocab", "group or individual", vocab=DELIVERY_FORMATS),
    _c("delivery_mode", "vocab", "online, in person, phone", vocab=DELIVERY_MODES),
    _c("control", "vocab", "control condition", req=True, nonempty=True, vocab=CONTROLS),
    _c("control_description", "str", "may be empty"),
    # outcome and sample
    _c("scale", "str", "loneliness scale as named by the source"),
    _c("timepoint", "str", "e.g. post (8 weeks)"),
    _c("timepoint_role", "vocab", "post (first assessment after the intervention ended) or follow_up (a later one)",
       vocab=TIMEPOINT_ROLES),
    _c("primary_effect", "bool", "true marks the coder's choice among several poolable rows of one trial"),
    _c("n_treatment", "int", "analysed n, treatment arm", req=True, minimum=2),
    _c("n_control", "int", "analysed n, control arm", req=True, minimum=2),
    _c("n_total", "int", "total n when only the total is reported", minimum=2),
    _c("n_basis", "vocab", "whether n_treatment/n_control are the analysed or the randomised numbers",
       vocab=N_BASES),
    _c("n_randomised", "int", "total randomised as printed, when the arm ns are analysed numbers", minimum=2),
    _c("randomisation_unit", "vocab", "individual or cluster randomisation", vocab=RANDOMISATION_UNITS),
    _c("cluster_unit", "str", "what was randomised in a cluster trial, e.g. senior centre"),
    _c("n_clusters", "int", "number of clusters randomised (cluster trials)", minimum=2),
    _c("icc", "float", "intracluster correlation as printed by the source", minimum=0.0, maximum=1.0),
    # statistics as reported
    _c("stat_type", "vocab", "which statistics the row carries", req=True, nonempty=True, vocab=STAT_TYPES),
    _c("m_t", "float", "post mean, treatment"),
    _c("sd_t", "float", "post SD, treatment", positive=True),
    _c("m_c", "float", "post mean, control"),
    _c("sd_c", "float", "post SD, control", positive=True),
    _c("m_pre_t", "float", "baseline mean, treatment"),
    _c("sd_pre_t", "float", "baseline SD, treatment", positive=True),
    _c("m_pre_c", "float", "baseline mean, control"),
    _c("sd_pre_c", "float", "baseline SD, control", positive=True),
    _c("r_t", "float", "pre-post correlation, treatment", minimum=-1.0, maximum=1.0),
    _c("r_c", "float", "pre-post correlation, control", minimum=-1.0, maximum=1.0),
    _c("es", "float", "the reported effect (d, g, MD, OR, ...)"),
    _c("es_ci_low", "float", "lower CI bound of es"),
    _c("es_ci_high", "float", "upper CI bound of es"),
    _c("ci_level", "float", "CI level, default 0.95"),
    _c("es_se", "float", "standard error of es", positive=True),
    _c("test_stat", "float", "t or F value"),
    _c("df", "str", "degrees of freedom as printed (text allowed: 1,211)"),
    _c("p_value", "float", "p value, in (0, 1]"),
    # sign
    _c("sign_convention", "vocab", "the sign convention as reported", req=True, vocab=SIGN_CONVENTIONS),
    _c("favours", "vocab", "which arm was less lonely (required when undirected; unknown when the source does not say)",
       vocab=FAVOURS),
    # provenance and use
    _c("source_url", "url", "URL where the numbers can be read", req=True, nonempty=True),
    _c("locator", "str", "where in it: abstract, Table 3, ...", req=True, nonempty=True),
    _c("quote", "str", "short verbatim quote around the numbers"),
    _c("hand", "vocab", "first (the trial's report) or second (another review's extraction)",
       req=True, nonempty=True, vocab=HANDS),
    _c("secondary_source", "str", "for hand=second: which review / file"),
    _c("exclude", "bool", "true keeps the row out of pooling"),
    _c("exclude_reason", "str", "required when exclude is true"),
    _c("missing", "str", "what could not be read"),
    _c("notes", "str", "free text"),
)

POOLED_COLUMNS: tuple[Column, ...] = (
    _c("review", "str", "equals the folder name", req=True, nonempty=True),
    _c("analysis", "str", "e.g. overall, strategy: social support", req=True, nonempty=True),
    _c("subgroup_variable", "str", "e.g. strategy; empty for overall"),
    _c("subgroup", "str", "e.g. social_support; empty for overall"),
    _c("strategy", "vocab", "canonical strategy when the subgroup is one", vocab=STRATEGIES),
    _c("design", "vocab", "designs pooled", vocab=POOLED_DESIGNS),
    _c("k", "int", "number of effects/studies as printed", req=True, minimum=1),
    _c("n_participants", "int", "as printed", minimum=1),
    _c("estimate", "float", "pooled estimate as printed", req=True),
    _c("ci_low", "float", "lower CI bound as printed", req=True),
    _c("ci_high", "float", "upper CI bound as printed", req=True),
    _c("approximate", "bool", "true when printed with ~ or similar"),
    _c("metric", "vocab", "metric of the estimate", req=True, nonempty=True, vocab=POOLED_METRICS),
    _c("sign_convention", "vocab", "sign of the estimate as printed", req=True, nonempty=True,
       vocab=POOLED_SIGNS),
    _c("i2", "float", "I² in percent", minimum=0.0, maximum=100.0),
    _c("tau2", "float", "tau² as printed", minimum=0.0),
    _c("q", "float", "Q statistic as printed", minimum=0.0),
    _c("q_df", "int", "degrees of freedom of Q", minimum=0),
    _c("p_value", "float", "p value, in (0, 1]"),
    _c("model", "vocab", "random, fixed or unknown", vocab=POOLED_MODELS),
    _c("hand", "vocab", "first (the review itself) or second (someone citing it)",
       req=True, nonempty=True, vocab=HANDS),
    _c("reliability", "vocab", "how trustworthy the source of the number is", req=True, nonempty=True,
       vocab=RELIABILITIES),
    _c("source_url", "url", "URL where the numbers can be read", req=True, nonempty=True),
    _c("locator", "str", "where in it", req=True, nonempty=True),
    _c("quote", "str", "short verbatim quote"),
    _c("notes", "str", "free text"),
)

def _rob_columns() -> tuple[Column, ...]:
    cols = [
        _c("review", "str", "equals the folder name", req=True, nonempty=True),
        _c("study_id", "str", "the trial assessed (a study_id of effects.csv)", req=True, nonempty=True),
        _c("effect_id", "str", "the result assessed; empty = every row of the trial in this folder"),
        _c("tool", "vocab", "rob2 (randomised) or robins_i (non-randomised)", req=True, nonempty=True,
           vocab=ROB_TOOLS),
    ]
    for prefix, name in ROB2_DOMAINS.items():
        cols.append(_c(prefix, "str", f"RoB 2 judgement: {name} (low, some_concerns, high, no_information)",
                       req=True))
        cols.append(_c(f"{prefix}_support", "str", f"quote from the source, or the reason, for {prefix}",
                       req=True))
    cols += [
        _c("overall", "str", "overall judgement (RoB 2 or ROBINS-I vocabulary, by tool)", req=True, nonempty=True),
        _c("overall_support", "str", "why the overall judgement follows from the domains", req=True,
           nonempty=True),
        _c("source_url", "url", "URL of the report the judgements were read from", req=True, nonempty=True),
        _c("locator", "str", "where in it: abstract, Methods, Table 2 ...", req=True, nonempty=True),
        _c("source_basis", "vocab", "what the judgements rest on: full_report, abstract (the trial's own abstract, "
           "registry or protocol only) or second_hand (another review's extraction only)", vocab=ROB_SOURCE_BASES),
        _c("assessed_by", "str", "who assessed", req=True, nonempty=True),
        _c("assessed_on", "str", "ISO date, e.g. 2026-12-01", req=True, nonempty=True),
        _c("notes", "str", "free text"),
    ]
    return tuple(cols)


#: Columns of ``risk_of_bias.csv``: one row per assessed trial (or result) of the folder.
RISK_OF_BIAS_COLUMNS: tuple[Column, ...] = _rob_columns()

#: Columns the loader computes; a file that types them is rejected.
COMPUTED_EFFECT_COLUMNS = ("yi", "vi", "metric", "yi_note", "pool", "pool_reason", "baseline_smd",
                           "baseline_imbalance", "design_effect", "cluster_uncorrected")
#: Columns the loader adds from the folder's ``risk_of_bias.csv`` (:func:`whatworks.data.attach_risk_of_bias`);
#: a file that types them is rejected. They sit before the computed columns and are not recomputed.
ROB_EFFECT_COLUMNS = ("rob_tool", "rob_overall")
COMPUTED_POOLED_COLUMNS = ("estimate_norm", "ci_low_norm", "ci_high_norm")


@dataclass(frozen=True)
class Key:
    """One key of ``review.toml``."""

    name: str
    description: str
    required: bool = False
    vocab: tuple[str, ...] = ()


REVIEW_KEYS: tuple[Key, ...] = (
    Key("id", "equals the folder name; lowercase letters, digits and _", required=True),
    Key("title", "title of the review (or of the living collection)", required=True),
    Key("kind", "review (a published review's data) or living (the project's own coded trials)",
        required=True, vocab=REVIEW_KINDS),
    Key("citation", "full citation", required=True),
    Key("url", "where the review can be read", required=True),
    Key("doi", "DOI, e.g. 10.2196/12345"),
    Key("scope", "population and interventions covered", required=True),
    Key("metric", "metric of the computed yi: SMD (Hedges' g), SMCC_diff or MD",
        vocab=REVIEW_METRICS),
    Key("model", 'the pooling model as published, e.g. "REML + Knapp-Hartung (metafor)"'),
    Key("sign_convention", "the review's own sign convention as printed, in words", required=True),
    Key("notes", "anything a reader must know"),
    Key("coded_by", "who coded it", required=True),
    Key("coded_on", "ISO date, e.g. 2026-11-27", required=True),
    Key("prisma", "PRISMA 2020 flow of study selection: a [prisma] table of counts (data/prisma.py)"),
)

#: Files a review folder may hold.
REVIEW_FILE = "review.toml"
EFFECTS_FILE = "effects.csv"
POOLED_FILE = "pooled.csv"
RISK_OF_BIAS_FILE = "risk_of_bias.csv"

#: Inputs each stat_type needs for the metric it yields. ``None`` metric: no yi.
STAT_NEEDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("means_post", "SMD"): ("m_t", "sd_t", "m_c", "sd_c", "n_treatment", "n_control"),
    ("means_post", "MD"): ("m_t", "sd_t", "m_c", "sd_c", "n_treatment", "n_control"),
    ("means_prepost", "SMD"): ("m_t", "sd_t", "m_c", "sd_c", "n_treatment", "n_control"),
    ("means_prepost", "MD"): ("m_t", "sd_t", "m_c", "sd_c", "n_treatment", "n_control"),
    ("means_prepost", "SMCC_diff"): ("m_t", "m_pre_t", "sd_t", "sd_pre_t", "n_treatment", "r_t",
                                     "m_c", "m_pre_c", "sd_c", "sd_pre_c", "n_control", "r_c"),
    ("d", "SMD"): ("es", "n_treatment", "n_control"),
    ("g", "SMD"): ("es", "n_treatment", "n_control"),
    ("t", "SMD"): ("test_stat", "n_treatment", "n_control"),
    ("f", "SMD"): ("test_stat", "n_treatment", "n_control"),
    ("md_ci", "SMD"): ("es", "es_ci_low", "es_ci_high", "n_treatment", "n_control"),
    ("md_ci", "MD"): ("es", "es_ci_low", "es_ci_high"),
    ("or_ci", "SMD"): ("es", "es_ci_low", "es_ci_high"),
    ("smcc_diff", "SMCC_diff"): ("es", "es_se"),
}


def column_names(columns: tuple[Column, ...]) -> tuple[str, ...]:
    """Names of ``columns`` in schema order."""
    return tuple(c.name for c in columns)
