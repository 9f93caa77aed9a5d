"""Writing review.toml: scalars first, then tables (``[prisma]``, ``[prisma.identified]`` ...).

The standard library reads TOML (``tomllib``) but does not write it; review.toml only holds strings,
whole numbers, booleans, dates and nested tables of them, which this writer covers.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Mapping
from typing import cast

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(key: str) -> str:
    """A key, quoted when it is not a bare key."""
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: object) -> str:
    """A scalar as TOML (JSON string escapes are valid TOML basic-string escapes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    return json.dumps(str(value), ensure_ascii=False)


def dumps(data: Mapping[str, object], *, comments: Mapping[str, str] | None = None) -> str:
    """TOML text of ``data`` (a mapping of scalars and nested mappings).

    Examples
    --------
    >>> import tomllib
    >>> text = dumps({"id": "x2020", "prisma": {"records_screened": 10, "identified": {"MEDLINE": 12}}})
    >>> tomllib.loads(text) == {"id": "x2020", "prisma": {"records_screened": 10, "identified": {"MEDLINE": 12}}}
    True
    """
    lines: list[str] = []
    _table(lines, [], data, comments or {})
    return "\n".join(lines).strip() + "\n"


def _table(lines: list[str], path: list[str], data: Mapping[str, object], comments: Mapping[str, str]) -> None:
    scalars = [(k, v) for k, v in data.items() if not isinstance(v, Mapping)]
    tables = [(k, v) for k, v in data.items() if isinstance(v, Mapping)]
    if path and (scalars or not tables):
        lines += ["", "[" + ".".join(toml_key(p) for p in path) + "]"]
    for key, value in scalars:
        dotted = ".".join([*path, key])
        if dotted in comments:
            lines.append(f"# {comments[dotted]}")
        lines.append(f"{toml_key(key)} = {toml_value(value)}")
    for key, value in tables:
        _table(lines, [*path, key], cast(Mapping[str, object], value), comments)
