"""``python -m whatworks``: the command line (see :mod:`whatworks.cli`)."""

from whatworks.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
