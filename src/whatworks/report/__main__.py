"""``python -m whatworks.report`` (see :mod:`whatworks.report.cli`)."""

from whatworks.report.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
