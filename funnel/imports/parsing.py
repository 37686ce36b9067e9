"""Read an uploaded CSV or Excel list into a header and rows of text, whatever its encoding or delimiter."""

import csv
import io
import zipfile

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl import load_workbook

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
ENCODINGS = ("utf-8-sig", "gb18030", "latin-1")  # gb18030 reads GBK too; latin-1 never fails, so it is last
DELIMITERS = ",;\t|"


def read_table(data: bytes) -> tuple[list[str], list[list[str]]]:
    """Return (header, rows) of the file; a spreadsheet is recognised by its content, not its name."""
    if not data.strip():
        raise ValidationError({"file": _("The file is empty.")})
    if len(data) > MAX_BYTES:
        raise ValidationError({"file": _("The file is over 5 MB; split it.")})
    table = _read_xlsx(data) if data[:4] == b"PK\x03\x04" else _read_csv(data)
    table = [[_text(cell) for cell in row] for row in table]
    table = [row for row in table if any(row)]
    if not table:
        raise ValidationError({"file": _("The file has no rows.")})
    header, rows = table[0], table[1:]
    if len(rows) > MAX_ROWS:
        raise ValidationError({"file": _("At most %(n)d rows per file; split it.") % {"n": MAX_ROWS}})
    width = len(header)
    return header, [row[:width] + [""] * (width - len(row)) for row in rows]


def _text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)  # Excel stores phone numbers as floats
    return str(cell).strip()


def _read_xlsx(data: bytes) -> list[list]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ValidationError({"file": _("This is not a readable Excel (.xlsx) file.")}) from None
    sheet = workbook.worksheets[0]
    rows = []
    for row in sheet.iter_rows(values_only=True):
        rows.append(list(row))
        if len(rows) > MAX_ROWS + 1:
            break
    workbook.close()
    return rows


def _read_csv(data: bytes) -> list[list[str]]:
    text = _decode(data)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=DELIMITERS)
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > MAX_ROWS + 1:
                break
    except csv.Error as error:
        raise ValidationError(
            {"file": _("Line %(line)d is not valid CSV (%(error)s).") % {"line": reader.line_num, "error": error}}
        ) from None
    return rows


def _decode(data: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")
