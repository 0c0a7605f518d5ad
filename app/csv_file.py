"""Reading an import CSV file: its header and its records, whatever bytes it holds.

Invariants:
- the file is read as a stream (memory does not grow with its length): one physical line of
  at most `LINE_MAX` characters is held at a time, plus the record being parsed;
- UTF-8 with or without a byte-order mark, LF or CRLF line ends, RFC 4180 quoting; bytes
  that are not UTF-8 never stop the reading: they reach the cells as lone surrogates
  (`surrogateescape`), which `cell_problem` reports for that record only;
- the header decides everything about the columns: matched case-insensitively, a duplicate,
  missing or unknown column refuses the whole file (`FileRefused`) before any row is read,
  so a misspelt column can never be silently ignored;
- each record carries the number of the line it starts on, so every report points at the
  line a spreadsheet or an editor shows; blank lines are skipped;
- a line longer than `LINE_MAX` characters is not parsed: its record is reported as too long.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import difflib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

# Longer than any valid cell by far, short enough that one line never weighs on memory.
LINE_MAX = 1_000_000
# The csv module's own bound on one field (it is process-wide, so set once, generously).
csv.field_size_limit(LINE_MAX + 2)

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_TOO_LONG = "\x00too-long\x00"


class FileRefused(ValueError):
    """The file as a whole cannot be imported (nothing was read into the database)."""


@dataclass(frozen=True)
class Record:
    """One record: its first line's number and its cells by column name (or why it is bad)."""

    line: int
    cells: dict[str, str]
    problem: str | None = None


@dataclass(frozen=True)
class Columns:
    """The columns a kind of import reads, and the ones it tolerates without reading."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()


def _lines(stream: io.TextIOBase) -> Iterator[str]:
    """The stream's lines; one over LINE_MAX is replaced by a marker line, its rest skipped."""
    while True:
        line = stream.readline(LINE_MAX)
        if not line:
            return
        if len(line) >= LINE_MAX and not line.endswith("\n"):
            while (rest := stream.readline(LINE_MAX)) and not rest.endswith("\n"):
                pass
            line = _TOO_LONG + "\n"
        yield line


def text_stream(raw: BinaryIO) -> io.TextIOWrapper:
    """The bytes as text: UTF-8, an optional byte-order mark dropped, newlines as they are."""
    head = raw.read(2) if raw.seekable() else b""
    if head in _UTF16_BOMS:
        raise FileRefused("the file is UTF-16; save it as CSV UTF-8 and import it again")
    if raw.seekable():
        raw.seek(0)
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _header_problems(header: Sequence[str], columns: Columns) -> list[str]:
    known = {c.casefold(): c for c in (*columns.required, *columns.optional, *columns.ignored)}
    seen: set[str] = set()
    problems = []
    for number, name in enumerate(header, 1):
        key = name.strip().casefold()
        if not key:
            problems.append(f"column {number} of the header has no name")
            continue
        if key in seen:
            problems.append(f"the column {name.strip()!r} appears twice")
        seen.add(key)
        if key not in known:
            problems.append(_unknown_column(name, list(known.values())))
    problems += [
        f"the column {c!r} is missing" for c in columns.required if c.casefold() not in seen
    ]
    return problems


def _unknown_column(name: str, known: list[str]) -> str:
    shown = name.strip().encode("utf-8", "backslashreplace").decode("utf-8")[:80]
    close = difflib.get_close_matches(shown.casefold(), [k.casefold() for k in known], n=1)
    hint = next(
        (f" (did you mean {k!r}?)" for k in known if close and k.casefold() == close[0]), ""
    )
    return f"unknown column {shown!r}{hint}"


def read_header(reader: Iterator[list[str]], columns: Columns) -> list[str]:
    """The canonical column names of the header, in file order; FileRefused if unusable."""
    header = next((row for row in reader if any(cell.strip() for cell in row)), None)
    if header is None:
        expected = ", ".join(columns.required)
        raise FileRefused(f"the file is empty; its first line must be the header: {expected}")
    if any(cell_problem("header", name) for name in header):
        raise FileRefused("the header line holds a NUL character or bytes that are not UTF-8")
    problems = _header_problems(header, columns)
    if problems:
        allowed = ", ".join((*columns.required, *columns.optional))
        raise FileRefused("; ".join(problems) + f" (this import reads: {allowed})")
    canonical = {c.casefold(): c for c in (*columns.required, *columns.optional, *columns.ignored)}
    return [canonical[name.strip().casefold()] for name in header]


def cell_problem(column: str, value: str) -> str | None:
    """Why a cell cannot be stored as text at all (NUL, bytes that are not UTF-8), or None."""
    if "\x00" in value:
        return f"{column!r} holds a NUL character"
    if any("\udc80" <= ch <= "\udcff" or "\ud800" <= ch <= "\udfff" for ch in value):
        return f"{column!r} holds bytes that are not valid UTF-8 text (save the file as UTF-8)"
    return None


def _record(line: int, header: list[str], row: list[str]) -> Record:
    if _TOO_LONG in row:
        return Record(line, {}, f"the line is longer than {LINE_MAX:,} characters")
    if len(row) != len(header):
        return Record(line, {}, f"it has {len(row)} cells where the header has {len(header)}")
    cells = dict(zip(header, row, strict=True))
    for column, value in cells.items():
        problem = cell_problem(column, value)
        if problem:
            return Record(line, {}, problem)
    return Record(line, cells)


def records(raw: BinaryIO, columns: Columns) -> Iterator[Record]:
    """The records after the header (FileRefused from the first `next` if the header is bad)."""
    stream = text_stream(raw)
    try:
        reader = csv.reader(_lines(stream), strict=False)
        header = read_header(reader, columns)
        while True:
            line = reader.line_num + 1
            try:
                row = next(reader, None)
            except csv.Error as exc:
                yield Record(line, {}, f"it is not valid CSV ({exc})")
                continue
            if row is None:
                return
            if row and any(cell.strip() for cell in row):
                yield _record(line, header, row)
    finally:
        # The caller owns the file: the text layer must not close it (nor fail if the caller
        # closed it first, when an error ends the import before the records do).
        with contextlib.suppress(ValueError):
            stream.detach()


def count_lines(raw: BinaryIO) -> int:
    """How many lines follow the header (for a progress bar: blank lines and quoted line
    breaks count too, so the bar may finish short of its total)."""
    lines, last = 0, b"\n"
    while chunk := raw.read(1 << 20):
        lines += chunk.count(b"\n")
        last = chunk[-1:]
    return max(lines + (last != b"\n") - 1, 0)
