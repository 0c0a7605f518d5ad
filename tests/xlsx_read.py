"""A minimal XLSX reader for tests: each cell's type, style and value, straight from the XML."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


@dataclass(frozen=True)
class Cell:
    kind: str  # "s" shared string, "inlineStr", "n" number, "f" a formula
    value: str
    number_format: str | None


def _shared(book: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in book.namelist():
        return []
    root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))  # noqa: S314 (our own output)
    return ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in root]


def _formats(book: zipfile.ZipFile) -> list[str | None]:
    """Each cell style's number format code (None: General)."""
    root = ElementTree.fromstring(book.read("xl/styles.xml"))  # noqa: S314 (our own output)
    codes = {
        int(n.get("numFmtId", "0")): n.get("formatCode")
        for n in root.findall("m:numFmts/m:numFmt", NS)
    }
    return [codes.get(int(xf.get("numFmtId", "0"))) for xf in root.findall("m:cellXfs/m:xf", NS)]


def sheet_count(content: bytes) -> int:
    names = zipfile.ZipFile(io.BytesIO(content)).namelist()
    return sum(1 for n in names if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))


def read_rows(content: bytes, sheet_number: int = 1) -> list[list[Cell | None]]:
    book = zipfile.ZipFile(io.BytesIO(content))
    shared, formats = _shared(book), _formats(book)
    sheet = ElementTree.fromstring(book.read(f"xl/worksheets/sheet{sheet_number}.xml"))  # noqa: S314 (our own output)
    rows: list[list[Cell | None]] = []
    for row in sheet.iter(f"{{{NS['m']}}}row"):
        cells: list[Cell | None] = []
        for c in row.findall("m:c", NS):
            column = ord(re.match(r"[A-Z]", c.get("r", "A"))[0]) - ord("A")  # type: ignore[index]
            cells.extend([None] * (column - len(cells)))
            style = formats[int(c.get("s", "0"))]
            if c.find("m:f", NS) is not None:
                cells.append(Cell("f", c.findtext("m:f", "", NS), style))
            elif c.get("t") == "s":
                cells.append(Cell("s", shared[int(c.findtext("m:v", "0", NS))], style))
            elif c.get("t") == "inlineStr":
                text = "".join(t.text or "" for t in c.iter(f"{{{NS['m']}}}t"))
                cells.append(Cell("inlineStr", text, style))
            else:
                cells.append(Cell("n", c.findtext("m:v", "", NS), style))
        rows.append(cells)
    return rows


def values(rows: list[list[Cell | None]]) -> list[list[str]]:
    return [[cell.value if cell else "" for cell in row] for row in rows]
