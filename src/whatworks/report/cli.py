"""``python -m whatworks.report`` on the command line: options, progress lines and exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ..data import DataValidationError
from ..estimators import METHODS
from ..model import TESTS
from .run import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, FORMATS, UsageError, run_report


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``python -m whatworks.report``."""
    p = argparse.ArgumentParser(
        prog="python -m whatworks.report",
        description="Validate the coded review data, run every analysis and write figures (PNG/SVG), results.csv "
                    "and a self-contained report.html. Exit codes: 0 ok, 1 data problems, 2 usage errors.")
    p.add_argument("--data", metavar="DIR", help="folder of review folders (default: data/reviews in the working directory if "
                                                  "it exists, else the data bundled with whatworks)")
    p.add_argument("--out", metavar="DIR", default="reports", help="output folder (default: reports/)")
    p.add_argument("--method", default="REML", metavar="METHOD",
                   help=f"tau² estimator, any case: {', '.join(METHODS)} (default: REML)")
    p.add_argument("--test", default="knha", metavar="TEST",
                   help=f"inference, any case: {' or '.join(TESTS)} (knha = Knapp-Hartung, default; z = Wald)")
    p.add_argument("--format", nargs="+", default=list(FORMATS), choices=FORMATS, dest="formats", metavar="FMT",
                   help="figure formats to write: png, svg (default: both)")
    p.add_argument("--review", nargs="+", metavar="ID", dest="reviews", help="analyse only these review ids")
    p.add_argument("--readme-figures", metavar="DIR",
                   help="also write the README figures (summary.png, forest_living.png) into DIR, e.g. docs/figures")
    p.add_argument("--jobs", type=int, metavar="N",
                   help="processes rendering figures (default: up to 4 on Linux, 1 elsewhere; output is the same)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--version", action="version", version=f"%(prog)s (whatworks {_version()})")
    return p


def _version() -> str:
    from .sections import software_versions

    return software_versions()["whatworks"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the report command with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    Examples
    --------
    >>> main(["--method", "nonsense"])
    2
    >>> main(["--version"])  # doctest: +ELLIPSIS
    python -m whatworks.report (whatworks ...)
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return int(exc.code or 0)
    import matplotlib

    matplotlib.use("Agg")  # a command never opens windows

    def log(message: str) -> None:
        if not args.quiet:
            print(f"report: {message}", file=sys.stderr, flush=True)

    try:
        run_report(data=args.data, out=args.out, method=args.method, test=args.test, formats=args.formats,
                   reviews=args.reviews, readme_figures=args.readme_figures, log=log, jobs=args.jobs)
    except DataValidationError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        again = " ".join(["whatworks validate", *([str(args.data)] if args.data else [])])
        print(f"report: the data have errors; nothing written (fix them, then: {again})", file=sys.stderr)
        return EXIT_PROBLEMS
    except (UsageError, FileNotFoundError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - a message, never a traceback; the previous report stays intact
        if os.environ.get("WHATWORKS_DEBUG"):
            raise
        print(f"{parser.prog}: internal error ({type(exc).__name__}: {exc}); this is a bug, please report it "
              "(set WHATWORKS_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_OK
