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
#: The rule for where a collection lives (whatworks.data.roots), in the help of every command.
DEFAULT = "data/reviews in the working directory if it exists, else the data bundled with whatworks"


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
                   help=f"folder of review folders, or one review folder (default: {DEFAULT})")
    p.add_argument("--strict", action="store_true", help="treat warnings (e.g. |g| > 3) as problems too")
    p = sub.add_parser("new-review", help="scaffold a new review folder from the template",
                       description="Create ROOT/ID with review.toml (every key, commented) and the headers of "
                                   "effects.csv and pooled.csv. Never overwrites an existing folder.")
    p.add_argument("review_id", metavar="ID", help="review id: lowercase letters, digits and _, e.g. smith2027")
    p.add_argument("--root", metavar="DIR",
                   help="collection folder to create it in (default: data/reviews in the working directory, "
                        "created if needed)")
    p.add_argument("--xlsx", action="store_true",
                   help="write an Excel coding workbook ID.xlsx instead (drop-down lists; read it back with "
                        "whatworks import)")
    p.add_argument("--out", metavar="FILE", help="with --xlsx: where to write the workbook (default: ./ID.xlsx)")
    _coding_parsers(sub)
    p = sub.add_parser("list", help="print the catalogue of reviews",
                       description="Print one line per review: id, kind, metric, number of coded effects, of pooled "
                                   "effects (yi available, not excluded), of published pooled results, and title.")
    p.add_argument("--root", metavar="DIR", help=f"collection folder (default: {DEFAULT})")
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
        commands = {"validate": _validate, "new-review": _new_review, "list": _list, "agree": _agree,
                    "merge": _merge, "resolve": _resolve, "import": _import}
        return commands[args.command](args)
    except FileNotFoundError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return EXIT_OK
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
    from whatworks.data.roots import find_root
    from whatworks.data.validate import discover, validate

    collection = find_root(args.path)
    print(collection.line())
    root = collection.path
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
    from pathlib import Path

    from whatworks.data.roots import WORKING_COLLECTION, bundled_root
    from whatworks.data.schema import REVIEW_ID_PATTERN
    from whatworks.data.template import scaffold

    if args.xlsx:
        return _new_workbook(args)
    root = Path(args.root) if args.root is not None else Path.cwd() / WORKING_COLLECTION
    new_collection = args.root is None and not root.exists()
    if new_collection and REVIEW_ID_PATTERN.match(args.review_id):  # a bad id is refused by scaffold below
        root.mkdir(parents=True)
    try:
        folder = scaffold(args.review_id, root)
    except ValueError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except FileExistsError as exc:
        return _fail(str(exc), EXIT_PROBLEMS)
    where = "given" if args.root is not None else f"{WORKING_COLLECTION.as_posix()} in the working directory"
    print(f"data: {root.absolute()} ({where}{', created' if new_collection else ''})")
    print(f"created {folder}/ (review.toml, effects.csv, pooled.csv, risk_of_bias.csv)")
    print(f"next: fill {folder / 'review.toml'}, code rows, then run: whatworks validate {folder}")
    if args.root is None:
        print(f"validate, list and report run in this folder read {WORKING_COLLECTION.as_posix()} (not the bundled "
              "data)")
    if new_collection:
        print(f"note: the bundled reviews are not in {WORKING_COLLECTION.as_posix()}; to analyse yours next to "
              f"them, copy them in: cp -r {bundled_root()}/. {WORKING_COLLECTION.as_posix()}/")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    import warnings

    from whatworks.data import DataValidationError, list_reviews
    from whatworks.data.roots import find_root

    collection = find_root(args.root)
    print(collection.line())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cat = list_reviews(collection.path)
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


# --- double coding: agree, merge, resolve; Excel in ------------------------------------------------------

def _coding_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("agree", help="compare two independent codings of one review",
                       description="Match the rows of two coders' review folders (by effect_id; study_id + "
                                   "effect_id in risk_of_bias.csv; analysis in pooled.csv), write every differing "
                                   "cell to DIR/disagreements.csv and per-column agreement (percent, Cohen's "
                                   "kappa, how far yi moves) to DIR/agreement.csv. Exit 0 when the codings agree, "
                                   "1 when they differ, 2 on usage errors.")
    p.add_argument("coder_a", metavar="CODER_A_DIR", help="the first coder's review folder")
    p.add_argument("coder_b", metavar="CODER_B_DIR", help="the second coder's review folder")
    p.add_argument("--out", metavar="DIR", required=True, help="folder for disagreements.csv and agreement.csv")
    p = sub.add_parser("merge", help="write the consensus of two codings, disagreements marked",
                       description="Write the consensus folder DIR (named after the review): cells on which the "
                                   "coders agree are taken, every other cell holds CONFLICT{a=...|b=...} and gets "
                                   "an open row in DIR/resolutions.csv. validate refuses the folder until each is "
                                   "resolved (whatworks resolve). Exit 0 when nothing is marked, 1 when "
                                   "disagreements wait for resolution, 2 on usage errors.")
    p.add_argument("coder_a", metavar="A", help="the first coder's review folder")
    p.add_argument("coder_b", metavar="B", help="the second coder's review folder")
    p.add_argument("--out", metavar="DIR", required=True,
                   help="the consensus folder to create, named after the review (e.g. data/reviews/smith2027)")
    p = sub.add_parser("resolve", help="write the decisions of resolutions.csv into a merged folder",
                       description="For every row of FOLDER/resolutions.csv with resolved_by filled, replace the "
                                   "marked cell with resolved_value (empty in a key column: drop the row). Then run "
                                   "whatworks validate. Exit 0 when no disagreement is left open, 1 otherwise.")
    p.add_argument("folder", metavar="FOLDER", help="the merged review folder")
    p = sub.add_parser("import", help="read an Excel coding workbook into a review folder",
                       description="Read FILE.xlsx (sheet 'effects' laid out like effects.csv; optional sheets "
                                   "'pooled', 'risk_of_bias' and 'review' with key/value rows) and write ROOT/ID, "
                                   "validated: with errors nothing is written and each is printed as "
                                   "file:sheet:row:column. Numbers are read as cell values.")
    p.add_argument("workbook", metavar="FILE.xlsx", help="the coding workbook")
    p.add_argument("--review", metavar="ID", required=True, help="review id (the folder name), e.g. smith2027")
    p.add_argument("--root", metavar="DIR", default=os.path.join("data", "reviews"),
                   help="collection folder to write it in (default: data/reviews)")
    p.add_argument("--replace", action="store_true",
                   help="replace the data files of an existing ROOT/ID (other files are kept)")


def _agree(args: argparse.Namespace) -> int:
    from pathlib import Path

    from whatworks.data.agree import agree
    from whatworks.data.codings import CodingError

    try:
        result = agree(args.coder_a, args.coder_b)
    except CodingError as exc:
        return _fail(str(exc), EXIT_USAGE)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from whatworks._csvout import csv_frame

    # for people (opened in spreadsheets): through the safe writer, a would-be formula shown as text
    (out / "disagreements.csv").write_text(csv_frame(result.disagreements), encoding="utf-8")
    (out / "agreement.csv").write_text(csv_frame(result.to_frame(), "%.6g"), encoding="utf-8")
    print(result.summary())
    print(f"written: {out / 'disagreements.csv'} ({len(result.disagreements)} rows), {out / 'agreement.csv'}")
    return EXIT_OK if result.identical else EXIT_PROBLEMS


def _merge(args: argparse.Namespace) -> int:
    from whatworks.data.codings import CodingError
    from whatworks.data.merge import merge

    try:
        result = merge(args.coder_a, args.coder_b, args.out)
    except CodingError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except FileExistsError as exc:
        return _fail(str(exc), EXIT_PROBLEMS)
    if not result.n_conflicts:
        print(f"merged into {result.folder}/: the codings agree on every cell; next: whatworks validate {result.folder}")
        return EXIT_OK
    print(f"merged into {result.folder}/ with {result.n_conflicts} disagreement(s) marked CONFLICT{{a=...|b=...}}")
    print(f"next: decide each one in {result.folder / 'resolutions.csv'} (resolved_value, resolved_by, resolved_on, "
          f"reason), then run: whatworks resolve {result.folder}")
    return EXIT_PROBLEMS


def _resolve(args: argparse.Namespace) -> int:
    from whatworks.data.codings import CodingError
    from whatworks.data.merge import resolve

    try:
        result = resolve(args.folder)
    except CodingError as exc:
        return _fail(str(exc), EXIT_USAGE)
    for p in result.problems:
        print(p)
    print(f"{result.applied} decision(s) written into the data; {result.still_open} disagreement(s) still open")
    if result.still_open == 0 and not result.problems:
        print(f"next: whatworks validate {args.folder}")
    return EXIT_OK if result.still_open == 0 and not result.problems else EXIT_PROBLEMS


def _import(args: argparse.Namespace) -> int:
    from whatworks.data.excel import WorkbookError, import_workbook

    try:
        result = import_workbook(args.workbook, args.review, args.root, replace=args.replace)
    except WorkbookError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except FileExistsError as exc:
        return _fail(str(exc), EXIT_PROBLEMS)
    for p in result.problems:
        print(p)
    if result.folder is None:
        print(f"nothing written: {sum(p.is_error for p in result.problems)} error(s) in {args.workbook}")
        return EXIT_PROBLEMS
    print(f"written {result.folder}/ ({', '.join(result.files)}); next: whatworks validate {result.folder}")
    return EXIT_OK


def _new_workbook(args: argparse.Namespace) -> int:
    from pathlib import Path

    from whatworks.data.excel_template import write_template

    path = Path(args.out or f"{args.review_id}.xlsx")
    try:
        write_template(args.review_id, path)
    except ValueError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except FileExistsError as exc:
        return _fail(str(exc), EXIT_PROBLEMS)
    print(f"created {path} (sheets effects, pooled, risk_of_bias, review; drop-down lists for the coded columns)")
    print(f"next: code the rows, then run: whatworks import {path} --review {args.review_id}")
    return EXIT_OK
