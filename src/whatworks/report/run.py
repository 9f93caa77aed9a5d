"""``run_report``: validate and load a collection, run the report's sections and write the result.

The report is a sequence of sections (:data:`DEFAULT_SECTIONS`, one module each in
:mod:`whatworks.report.sections`; the section API is :mod:`whatworks.report.api`); :mod:`whatworks.report.write`
writes every file:

``OUT/report.html``
    self-contained page (figures embedded, tables, methods paragraph);
``OUT/results.csv``
    one row per analysis x subgroup (:data:`~whatworks.report.api.RESULT_COLUMNS`), rounded, sorted,
    byte-identical across runs;
``OUT/figures/NAME.png`` / ``.svg``
    every figure, with fixed metadata so that reruns give identical files.

Exit codes of the command: 0 ok, 1 problems in the data (printed as ``file:row:column: message``), 2 usage errors.
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ..data import collection_fingerprint, load_collection
from ..data.roots import find_root
from ..estimators import METHODS
from ..model import TESTS
from .api import ReportContext, ReportOptions, Section, SectionOutput, UsageError
from .render import default_jobs
from .sections import DEFAULT_SECTIONS, SECTION_WORDS, software_versions
from .write import ReportOutput, check_target, write_report

FORMATS = ("png", "svg")
EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _option(value: str, allowed: Sequence[str], name: str) -> str:
    """``value`` in its canonical spelling (case-insensitive: "reml" -> "REML"), else a UsageError."""
    canon = {a.lower(): a for a in allowed}
    if not isinstance(value, str) or value.lower() not in canon:
        raise UsageError(f"{name} must be one of {', '.join(allowed)} (any case); got {value!r}")
    return canon[value.lower()]


def run_date() -> str:
    """The run's date (ISO): from ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else today (UTC)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date().isoformat()
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def run_report(
    *,
    data: str | Path | None = None,
    out: str | Path = "reports",
    method: str = "REML",
    test: str = "knha",
    level: float = 0.95,
    formats: Sequence[str] = FORMATS,
    reviews: Sequence[str] | None = None,
    sections: Sequence[Section] = DEFAULT_SECTIONS,
    readme_figures: str | Path | None = None,
    log: Callable[[str], None] | None = None,
    jobs: int | None = None,
) -> ReportOutput:
    """Validate and load the data, run ``sections`` and write the report into ``out``.

    Parameters
    ----------
    data : str or Path, optional
        Folder of review folders (default: ``data/reviews`` in the working directory when it exists,
        else the bundled data; :mod:`whatworks.data.roots`).
    out : str or Path
        Output folder: missing, empty or an earlier report. The report is written next to it and moved
        into place when complete, replacing the earlier report as a whole (a failed run leaves it as it
        was).
    method, test, level
        Options of every fit (metafor's spellings): tau² estimator, "knha" or "z", confidence level.
    formats : sequence of {"png", "svg"}
        Figure files to write; the HTML embeds the SVG when written, else the PNG.
    reviews : sequence of str, optional
        Review ids to analyse (default: all).
    sections : sequence of callables
        The sections, in order (default :data:`DEFAULT_SECTIONS`).
    readme_figures : str or Path, optional
        Also write the README figures (:data:`README_FIGURES`, PNG) into this folder.
    log : callable, optional
        Receives one progress message per step.
    jobs : int, optional
        Processes rendering the figures (default :func:`default_jobs`); the files do not depend on it.

    Returns
    -------
    ReportOutput

    Raises
    ------
    DataValidationError
        If the data have errors (``problems`` lists them all); nothing is written.
    UsageError
        For an unknown option or review id, or an ``out`` folder holding files that are not a report (a
        ValueError). FileNotFoundError: ``data`` is not a folder.

    Examples
    --------
    >>> import tempfile
    >>> from whatworks.report import run_report
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     res = run_report(out=tmp, formats=["svg"], sections=[])
    ...     sorted(p.name for p in res.files)
    ['report.html', 'results.csv']
    """
    start = time.perf_counter()
    say = log or (lambda message: None)
    method = _option(method, METHODS, "method")
    test = _option(test, TESTS, "test")
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise UsageError(f"formats must be one or more of {', '.join(FORMATS)}; got {list(formats)}")
    if not 0 < level < 1:
        raise UsageError(f"level must be in (0, 1), e.g. 0.95; got {level!r}")
    check_target(Path(out))
    place = find_root(data)
    root = place.path
    say(place.line())
    say(f"checking the data in {root}")
    collection = load_collection(root)  # every folder validated once; errors raise DataValidationError
    for p in collection.problems:
        say(str(p))
    ids = tuple(reviews) if reviews else None
    unknown = [r for r in ids or () if r not in set(collection.catalogue["review"])]
    if unknown:
        raise UsageError(f"unknown review id(s): {', '.join(unknown)}; available: "
                         f"{', '.join(collection.catalogue['review'])}")
    if ids:
        collection = collection.select(ids)
    effects, pooled, catalogue = collection.effects, collection.pooled, collection.catalogue
    risk_of_bias = collection.risk_of_bias
    say(f"read {len(effects)} coded effects ({int(effects['pool'].sum())} poolable) and {len(pooled)} published "
        f"results from {len(catalogue)} reviews")
    where = place.describe()  # no absolute paths unless given: the same page on any machine
    info = {"date": run_date(), "version": software_versions()["whatworks"], "fingerprint": collection_fingerprint(root)}
    ctx = ReportContext(effects, pooled, catalogue, ReportOptions(method, test, level, ids), where, say,
                        risk_of_bias=risk_of_bias, root=root, run=info)

    import matplotlib

    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    # the sections draw every figure first (about 30 on the bundled data); the writer closes each after rendering
    with matplotlib.rc_context({"figure.max_open_warning": 0}):
        outputs: list[SectionOutput] = []
        for section in sections:
            name = getattr(section, "__name__", "")
            say(f"writing {SECTION_WORDS.get(name, name.removeprefix('section_').replace('_', ' ') or 'a section')}")
            result = section(ctx)
            if result is not None:
                outputs.append(result)
        return write_report(outputs, Path(out), tuple(formats), readme_figures, ctx, say, start, jobs)
