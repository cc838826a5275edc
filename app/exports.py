"""Tables staff take away: CSV and Excel workbooks that open right in Excel, WPS and
LibreOffice. Headers and values arrive in the console's language from the caller; here,
every text stays text (a code keeps its leading zero, a name that begins with "=" is never
a formula), CSV carries a byte-order mark so spreadsheet programs read Chinese as UTF-8,
and columns are as wide as their contents (a Chinese character counts two)."""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KINDS = ("csv", "xlsx")


def cell_text(value: str) -> str:
    """Text a workbook can hold: control characters removed."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def width(value) -> int:
    """How many narrow characters a value takes: Chinese characters take two."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def sheet_title(text: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", " ", text)[:31]


def formula_safe(text: str) -> str:
    """A spreadsheet must not run a typed name as a formula (CSV has no cell types)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@dataclass
class Table:
    """One sheet: a header row, then rows of text, numbers or None."""

    title: str
    headers: list
    rows: list = field(default_factory=list)
    # Columns (from 0), or single cells (row, column) of the rows, holding fractions that a
    # workbook shows as percentages.
    percent_columns: tuple = ()
    percent_cells: tuple = ()


def csv_body(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(header) for header in table.headers])
    for row in table.rows:
        writer.writerow(["" if value is None else formula_safe(value) if isinstance(value, str) else value
                         for value in row])
    # A byte-order mark lets spreadsheet programs read the Chinese as UTF-8.
    return "\ufeff" + out.getvalue()


def append_rows(sheet, rows) -> None:
    """Rows added to a sheet as they are: text stays text (no formula, no number, no date)."""
    for row in rows:
        sheet.append([cell_text(value) if isinstance(value, str) else value for value in row])
    for line in sheet.iter_rows():
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                cell.number_format = "@"


def fit_columns(sheet, rows, widest: int = 50) -> None:
    """Each column as wide as its longest value in ``rows``, within 8 and ``widest``."""
    for index in range(max((len(row) for row in rows), default=0)):
        longest = max((width(row[index]) for row in rows if index < len(row)), default=0)
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(max(longest + 2, 8), widest)


def xlsx_body(*tables: Table, title: str = "") -> bytes:
    """A workbook with a sheet per table: a bold, frozen header row; text cells as text."""
    book = Workbook()
    book.remove(book.active)
    if title:
        book.properties.title = title
    bold = Font(bold=True)
    for table in tables:
        sheet = book.create_sheet(sheet_title(str(table.title)))
        rows = [[str(header) for header in table.headers], *table.rows]
        append_rows(sheet, rows)
        for cell in sheet[1]:
            cell.font = bold
        for column in table.percent_columns:
            for cell in sheet[get_column_letter(column + 1)][1:]:
                cell.number_format = "0.0%"
        for row, column in table.percent_cells:
            sheet.cell(row=row + 2, column=column + 1).number_format = "0.0%"
        fit_columns(sheet, rows)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def attachment(body, kind: str, filename: str) -> Response:
    """A file to save: ``kind`` is "csv" or "xlsx"; ``filename`` has no suffix and may be
    Chinese (RFC 5987)."""
    name = f"{filename}.{kind}"
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or f"export.{kind}"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(body, mimetype=XLSX if kind == "xlsx" else "text/csv",
                    headers={"Content-Disposition": disposition})


def download(table: Table, kind: str, filename: str) -> Response:
    """The table as a CSV or Excel file to save."""
    body = xlsx_body(table, title=str(table.title)) if kind == "xlsx" else csv_body(table)
    return attachment(body, kind, filename)
