"""The ``whatworks`` command line: a thin layer over :mod:`whatworks.data` (and ``whatworks.report``).

Exit codes: 0 success, 1 problems in the data (or a failed command), 2 usage errors.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Sequence

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="whatworks",
        description="Evidence synthesis for loneliness interventions: check, scaffold and list the coded "
                    "review data, and build the report.",
    )
    parser.add_argument("--version", action="version", version=f"whatworks {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("validate", help="check review folders against the schema",
                       description="Check every review folder under PATH (or one review folder) and print each "
                                   "problem as file:row:column: message. Exit 0 when clean, 1 with problems.")
    p.add_argument("path", nargs="?", metavar="PATH",
                   help="folder of review folders, or one review folder (default: the bundled data)")
    p.add_argument("--strict", action="store_true", help="treat warnings (e.g. |g| > 3) as problems too")
    p = sub.add_parser("new-review", help="scaffold a new review folder from the template",
                       description="Create ROOT/ID with review.toml (every key, commented) and the headers of "
                                   "effects.csv and pooled.csv. Never overwrites an existing folder.")
    p.add_argument("review_id", metavar="ID", help="review id: lowercase letters, digits and _, e.g. smith2027")
    p.add_argument("--root", metavar="DIR", default=os.path.join("data", "reviews"),
                   help="collection folder to create it in (default: data/reviews)")
    p = sub.add_parser("list", help="print the catalogue of reviews",
                       description="Print one line per review: id, kind, metric, number of coded effects, of pooled "
                                   "effects (yi available, not excluded), of published pooled results, and title.")
    p.add_argument("--root", metavar="DIR", help="collection folder (default: the bundled data)")
    sub.add_parser("report", help="build the report (options: whatworks report --help)", add_help=False,
                   description="Forwarded to whatworks.report.")
    return parser


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("whatworks")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree without installing
        from whatworks import __version__

        return __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``whatworks`` command line with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    Examples
    --------
    >>> main(["list", "--root", "/nonexistent"])
    2
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "report":
        return _report(argv[1:])
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return {"validate": _validate, "new-review": _new_review, "list": _list}[args.command](args)
    except FileNotFoundError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except Exception as exc:  # noqa: BLE001 - errors are messages, never tracebacks
        if os.environ.get("WHATWORKS_DEBUG"):
            raise
        return _fail(f"internal error ({type(exc).__name__}: {exc}); this is a bug, please report it "
                     "(set WHATWORKS_DEBUG=1 for the traceback)", EXIT_PROBLEMS)


def _fail(message: str, code: int) -> int:
    print(f"whatworks: error: {message}", file=sys.stderr)
    return code


def _validate(args: argparse.Namespace) -> int:
    from whatworks.data.problems import summary_line
    from whatworks.data.roots import resolve_root
    from whatworks.data.validate import discover, validate

    root = resolve_root(args.path)
    problems = validate(root)
    for p in problems:
        print(p)
    n_folders = len(discover(root))
    where = f"{n_folders} review folder{'s' if n_folders != 1 else ''} in {root}"
    failing = [p for p in problems if p.is_error or args.strict]
    if not problems:
        print(f"OK: {where}, no problems")
    else:
        print(f"{summary_line(problems)}; {where}")
    return EXIT_PROBLEMS if failing else EXIT_OK


def _new_review(args: argparse.Namespace) -> int:
    from whatworks.data.template import scaffold

    try:
        folder = scaffold(args.review_id, args.root)
    except ValueError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except FileExistsError as exc:
        return _fail(str(exc), EXIT_PROBLEMS)
    print(f"created {folder}/ (review.toml, effects.csv, pooled.csv)")
    print(f"next: fill {folder / 'review.toml'}, code rows, then run: whatworks validate {folder}")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    import warnings

    from whatworks.data import DataValidationError, list_reviews

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cat = list_reviews(args.root)
    except DataValidationError as exc:
        print(exc, file=sys.stderr)
        return _fail("the data have errors; fix them first (whatworks validate)", EXIT_PROBLEMS)
    if cat.empty:
        print("no reviews found")
        return EXIT_OK
    cols = ["review", "kind", "metric", "n_effects", "n_pooled_effects", "n_published", "title"]
    heads = ["review", "kind", "metric", "effects", "pooled", "published", "title"]
    rows = [[("-" if v is None or v != v else str(v)) for v in rec] for rec in cat[cols].itertuples(index=False)]
    rows = [r[:-1] + [r[-1] if len(r[-1]) <= 70 else r[-1][:67] + "..."] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(heads, *rows)]
    for r in [heads, *rows]:
        print("  ".join(x.rjust(w) if 3 <= i <= 5 else x.ljust(w) for i, (x, w) in enumerate(zip(r, widths))).rstrip())
    return EXIT_OK


def _report(argv: list[str]) -> int:
    if importlib.util.find_spec("whatworks.report") is None:
        return _fail("the report command is not available in this version (whatworks.report is missing)",
                     EXIT_PROBLEMS)
    from whatworks import report

    result = report.main(argv)
    return int(result or 0)
