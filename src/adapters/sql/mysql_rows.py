"""Multi-row INSERT text for MySQL/MariaDB, rendered column by column.

PyMySQL interpolates parameters on the client anyway (it has no server-side
binding), through a generic per-value dispatch that cost 40 % of a write. Here
each column is converted in one pass chosen from its Core type:

- integers with ``int.__repr__`` and floats with ``float.__repr__`` (the
  shortest text that reads back as the same double; NaN and ±Inf never get here,
  see ``values.py``); each refuses a value of another type;
- bytes as a hex literal (``X'0a1b'``);
- text of printable ASCII without ``'`` or backslash is quoted as it is (nothing in
  it is special between single quotes); any other text travels as a hex literal
  with a charset introducer (``_utf8mb4 X'c3a9'``). Short texts (series ids,
  kinds, names) recur in every batch; their quoted form is remembered.

So nothing in a value is ever parsed as SQL, whatever the server's
``NO_BACKSLASH_ESCAPES``, and a value of the wrong type raises instead.
"""

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.bounded_cache import BoundedCache

CHUNK_CHARACTERS = 1_000_000
"""Text per statement; far below MariaDB's default 16 MiB ``max_allowed_packet``."""

Column = Callable[[Sequence[Any]], list[str]]
Picker = Callable[[Any], Any]
Group = tuple[sa.Insert, sa.Table, list[Any]]
_SLICE = 250
"""Rows rendered at a time (bounds the memory of one table's text)."""
_REMEMBERED = 64
"""Texts up to this length keep their quoted form (``_quoted``)."""
_quoted: BoundedCache[str, str] = BoundedCache(100_000)
# Printable ASCII but the quote and the backslash: nothing in it is special
# between single quotes, in any SQL mode.
_plain = re.compile(r"[ -&(-\[\]-~]*").fullmatch
_PLACEHOLDER = r"(?:%s|%\(\w+\)s)"
_VALUES = re.compile(
    rf"^(.*? VALUES )\({_PLACEHOLDER}(?:, {_PLACEHOLDER})*\)(.*)$", re.DOTALL
)


def _ints(values: Sequence[int | None]) -> list[str]:
    text = int.__repr__  # also refuses floats, as ``{:d}`` does
    return ["NULL" if v is None else text(v) for v in values]


def _floats(values: Sequence[float | None]) -> list[str]:
    text = float.__repr__
    try:
        return ["NULL" if v is None else text(v) for v in values]
    except TypeError:  # an int where a float belongs: as the float it stands for
        return ["NULL" if v is None else text(float(v)) for v in values]


def _bools(values: Sequence[bool | None]) -> list[str]:
    return ["NULL" if v is None else ("1" if v else "0") for v in values]


def _quote(text: str) -> str:
    quoted = f"'{text}'" if _plain(text) else f"_utf8mb4 X'{text.encode().hex()}'"
    if len(text) <= _REMEMBERED:
        _quoted.keep(text, quoted)
    return quoted


def _texts(values: Sequence[str | None]) -> list[str]:
    known = _quoted.get
    texts = ["NULL" if v is None else known(v) for v in values]
    if None in texts:
        return [
            t if t is not None else _quote(v)  # type: ignore[arg-type]
            for t, v in zip(texts, values, strict=True)
        ]
    return texts  # type: ignore[return-value]


def _blobs(values: Sequence[bytes | None]) -> list[str]:
    return ["NULL" if v is None else f"X'{v.hex()}'" for v in values]


def _converter(column: sa.Column[Any]) -> Column:
    if isinstance(column.type, sa.LargeBinary):
        return _blobs
    if isinstance(column.type, sa.Boolean):
        return _bools
    if isinstance(column.type, sa.Integer):
        return _ints
    if isinstance(column.type, sa.Float):
        return _floats
    return _texts


@functools.cache
def _template(
    dialect: sa.Dialect, statement: sa.Insert, table: sa.Table
) -> tuple[str, str, list[tuple[Picker, Column]]]:
    """Split the compiled one-row statement around its VALUES group, whose
    placeholders follow the table's columns (Core renders every column)."""
    text = str(statement.compile(dialect=dialect))
    match = _VALUES.match(text)
    if match is None or "%" in match.group(1) + match.group(2):
        raise ValueError(f"not a one-row INSERT … VALUES: {text}")
    columns: list[tuple[Picker, Column]] = [
        (itemgetter(column.name), _converter(column)) for column in table.columns
    ]
    return match.group(1), match.group(2), columns


def _rendered(rows: list[Any], columns: list[tuple[Picker, Column]]) -> str:
    """The VALUES groups of ``rows``: ``(…),(…)``."""
    texts = [convert(list(map(pick, rows))) for pick, convert in columns]
    return "(" + "),(".join(map(",".join, zip(*texts, strict=True))) + ")"


def _statements(
    dialect: sa.Dialect, statement: sa.Insert, table: sa.Table, rows: list[Any]
) -> Iterator[str]:
    """Multi-row statements of about ``CHUNK_CHARACTERS``, rendered as needed."""
    head, tail, columns = _template(dialect, statement, table)
    chunk: list[str] = []
    size = 0
    for start in range(0, len(rows), _SLICE):
        text = _rendered(rows[start : start + _SLICE], columns)
        chunk.append(text)
        size += len(text) + 1
        if size >= CHUNK_CHARACTERS:
            yield head + ",".join(chunk) + tail
            chunk, size = [], 0
    if chunk:
        yield head + ",".join(chunk) + tail


def execute_all(connection: Connection, groups: Iterable[Group]) -> None:
    """Run every ``(statement, table, rows)`` as multi-row INSERTs."""
    raw = connection.execution_options(no_parameters=True)
    for statement, table, rows in groups:
        for text in _statements(connection.dialect, statement, table, rows):
            raw.exec_driver_sql(text)
