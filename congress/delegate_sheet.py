"""Read a delegate list uploaded by an organizer, without touching the database.

Every row comes back with its problems so that a preview can show them before anything is
written. The file type is told from the content, never from the file name.
"""

import contextlib
import csv
import datetime
import io
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Generator, Iterable, Iterator
from itertools import chain, islice

import msgspec
import openpyxl

from congress.text import fold

KINDS = ("official", "invited", "guest")
GENDERS = ("male", "female")
MAX_ROWS = 20_000


class Problem(msgspec.Struct, frozen=True):
    """Something wrong with the file or one of its rows, with a machine-readable code."""

    code: str
    field: str | None = None
    value: str = ""


class SheetRow(msgspec.Struct):
    """One delegate as read from the sheet; ``line`` is the row number the organizer sees."""

    line: int
    full_name: str
    unit: str
    delegation: str
    position: str
    kind: str | None
    gender: str | None
    birth_year: int | None
    card_number: str | None
    photo: str | None
    problems: list[Problem]


class DelegateSheet(msgspec.Struct):
    """A whole uploaded delegate list: recognised columns, rows and file-level problems."""

    file_type: str
    encoding: str | None
    columns: dict[str, str]
    ignored_columns: list[str]
    rows: list[SheetRow]
    problems: list[Problem]

    @property
    def has_errors(self) -> bool:
        """True when the file or any of its rows has a problem."""
        return bool(self.problems) or any(row.problems for row in self.rows)


def read_delegate_sheet(content: bytes) -> DelegateSheet:
    """Parse an uploaded CSV or XLSX delegate list; never raises on bad input."""
    if content.startswith(_OLE2_MAGIC):
        code = "encrypted_file" if _ENCRYPTED_PACKAGE in content else "xls_not_supported"
        return _refused("xls", code)
    if content.startswith(_ZIP_MAGIC):
        if not _is_xlsx(content):
            return _refused("unknown", "unsupported_file")
        return _read_xlsx(content)
    if not content.startswith(_UTF16_BOMS) and b"\x00" in content[:1024]:
        return _refused("unknown", "unsupported_file")
    return _read_csv(content)


# --- file types -------------------------------------------------------------------------

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A password-protected .xlsx is an OLE2 container holding this stream (name in UTF-16).
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_ZIP_MAGIC = b"PK\x03\x04"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_DELIMITERS = (",", ";", "\t")

Record = tuple[int, list[str]]


class _UnreadableFileError(Exception):
    """The csv module or openpyxl failed inside a file that looked readable."""


def _refused(file_type: str, code: str, encoding: str | None = None) -> DelegateSheet:
    return DelegateSheet(file_type, encoding, {}, [], [], [Problem(code)])


def _is_xlsx(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _read_xlsx(content: bytes) -> DelegateSheet:
    try:
        with contextlib.closing(_xlsx_records(content)) as records:
            return _read_records("xlsx", None, records)
    except _UnreadableFileError:
        return _refused("xlsx", "unreadable_file")


def _xlsx_records(content: bytes) -> Generator[Record, None, None]:
    # openpyxl raises many exception types on damaged workbooks; all mean "cannot read it".
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:
        raise _UnreadableFileError from error
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers store a wrong size; read what is there
        rows = sheet.iter_rows(values_only=True)
        for line, values in enumerate(rows, start=1):
            yield line, [_cell_text(value) for value in values]
    except Exception as error:
        raise _UnreadableFileError from error
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.strftime("%d/%m/%Y")
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _read_csv(content: bytes) -> DelegateSheet:
    encoding, text = _decode(content)
    if text is None:
        return _refused("csv", "unreadable_encoding")
    try:
        return _read_records("csv", encoding, _csv_records(text))
    except _UnreadableFileError:
        return _refused("csv", "unreadable_file", encoding)


def _csv_records(text: str) -> Iterator[Record]:
    text, delimiter = _take_separator_hint(text)
    delimiter = delimiter or _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as error:  # a cell longer than csv.field_size_limit()
        raise _UnreadableFileError from error


def _decode(content: bytes) -> tuple[str, str | None]:
    if content.startswith(_UTF16_BOMS):
        encoding = "utf-16"
    elif content.startswith(_UTF8_BOM):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8" if _is_utf8(content) else "cp1258"
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError:
        return encoding, None
    if _CONTROL_CHARS.search(text):
        return encoding, None
    return encoding, text


def _is_utf8(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _take_separator_hint(text: str) -> tuple[str, str | None]:
    # Excel writes and honours a first line "sep=;" that names the delimiter.
    first, _, rest = text.partition("\n")
    hint = first.rstrip("\r")
    if len(hint) == 5 and hint.lower().startswith("sep=") and hint[4] in _DELIMITERS:
        return rest, hint[4]
    return text, None


def _sniff_delimiter(text: str) -> str:
    """Pick the delimiter under which the most header cells are recognised."""
    first_line = next((line for line in io.StringIO(text) if line.strip()), "")

    def score(delimiter: str) -> tuple[int, int]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            head = list(islice(reader, _HEADER_SEARCH_ROWS))
        except csv.Error:
            return -1, 0
        recognised = max((_recognised_count(cells) for cells in head), default=0)
        return recognised, first_line.count(delimiter)

    return max(_DELIMITERS, key=score)


# --- header -----------------------------------------------------------------------------

_HEADER_SEARCH_ROWS = 10
_ROW_NUMBER = "row_number"
_HEADER_ALIASES = {
    "full_name": ("họ và tên", "họ tên", "họ và tên đại biểu", "full name", "name"),
    "unit": ("đơn vị", "đơn vị công tác", "unit", "organisation", "organization"),
    "delegation": ("đoàn đại biểu", "đoàn", "delegation"),
    "position": ("chức vụ", "chức danh", "position", "title"),
    "kind": ("loại đại biểu", "loại", "kind", "delegate kind", "type"),
    "gender": ("giới tính", "gender", "sex"),
    "birth_year": (
        "năm sinh",
        "ngày sinh",
        "ngày tháng năm sinh",
        "birth year",
        "year of birth",
        "date of birth",
        "birth date",
    ),
    "card_number": ("số thẻ", "số thẻ đại biểu", "card number", "card no", "card"),
    "photo": ("ảnh", "ảnh đại biểu", "photo", "photo file", "tên tệp ảnh"),
    _ROW_NUMBER: ("stt", "tt", "no", "#"),
}
_FIELD_BY_HEADER = {
    fold(alias): field for field, aliases in _HEADER_ALIASES.items() for alias in aliases
}
# Trailing marks organizers put on headers: "Họ và tên (*)", "Năm sinh:", "No.".
_HEADER_TRAILER = re.compile(r"(?:\s*(?:\([^()]*\)|[*:.]))+$")


def _header_field(text: str) -> str | None:
    key = _HEADER_TRAILER.sub("", fold(text).replace("_", " ")).strip()
    return _FIELD_BY_HEADER.get(key)


def _recognised_count(cells: list[str]) -> int:
    return sum(1 for cell in cells if _header_field(cell))


def _find_header(head: list[Record]) -> int:
    """Index in ``head`` of the header: the first row with two recognised headers."""
    for index, (_, cells) in enumerate(head):
        if _recognised_count(cells) >= 2:
            return index
    return 0


class _Header(msgspec.Struct):
    fields: dict[int, str]
    columns: dict[str, str]
    ignored: list[str]
    problems: list[Problem]


def _read_header(cells: list[str]) -> _Header:
    header = _Header({}, {}, [], [])
    for position, raw in enumerate(cells):
        text = _clean(raw)
        field = _header_field(text)
        if field == _ROW_NUMBER or not text:
            continue
        if field is None:
            header.ignored.append(text)
        elif field in header.fields.values():
            header.problems.append(Problem("duplicate_column", field, text))
        else:
            header.fields[position] = field
            header.columns[text] = field
    if "full_name" not in header.fields.values():
        header.problems.append(Problem("missing_name_column", "full_name"))
    return header


# --- rows -------------------------------------------------------------------------------


def _read_records(file_type: str, encoding: str | None, records: Iterable[Record]) -> DelegateSheet:
    filled = ((line, cells) for line, cells in records if any(cell.strip() for cell in cells))
    head = list(islice(filled, _HEADER_SEARCH_ROWS))
    if not head:
        return _refused(file_type, "empty_file", encoding)
    header_index = _find_header(head)
    header = _read_header(head[header_index][1])
    sheet = DelegateSheet(file_type, encoding, header.columns, header.ignored, [], header.problems)
    if header.problems:
        return sheet
    for line, cells in chain(head[header_index + 1 :], filled):
        values = _field_values(cells, header.fields)
        if not any(values.values()):
            continue  # only a row number or notes in ignored columns
        if len(sheet.rows) == MAX_ROWS:
            return _refused(file_type, "too_many_rows", encoding)
        sheet.rows.append(_read_row(line, values))
    _mark_duplicate_cards(sheet.rows)
    return sheet


def _field_values(cells: list[str], fields: dict[int, str]) -> dict[str, str]:
    return {field: _clean(cells[i]) if i < len(cells) else "" for i, field in fields.items()}


def _clean(value: str) -> str:
    # NFC because cp1258 and some Mac tools write tone marks as separate combining characters.
    return " ".join(unicodedata.normalize("NFC", value).split())


def _read_row(line: int, values: dict[str, str]) -> SheetRow:
    problems: list[Problem] = []
    full_name = values.get("full_name", "")
    if not full_name:
        problems.append(Problem("missing_name", "full_name"))
    kind = _kind(values.get("kind", ""), problems)
    gender = _gender(values.get("gender", ""), problems)
    return SheetRow(
        line=line,
        full_name=full_name,
        unit=values.get("unit", ""),
        delegation=values.get("delegation", ""),
        position=values.get("position", ""),
        kind=kind,
        gender=gender,
        birth_year=_birth_year(values.get("birth_year", ""), problems),
        card_number=values.get("card_number") or None,
        photo=_photo(values.get("photo", ""), problems),
        problems=problems,
    )


_KIND_BY_WORD = {
    fold(word): kind
    for kind, words in {
        "official": ("chính thức", "đại biểu chính thức", "đbct", "đb chính thức", "official"),
        "invited": ("khách mời", "đại biểu khách mời", "đbkm", "đb khách mời", "invited"),
        "guest": ("khách", "guest"),
    }.items()
    for word in words
}
_GENDER_BY_WORD = {
    "nam": "male",
    "male": "male",
    "m": "male",
    "nu": "female",
    "female": "female",
    "f": "female",
}


def _kind(raw: str, problems: list[Problem]) -> str | None:
    if not raw:  # the organizer must say; no default is guessed
        problems.append(Problem("missing_kind", "kind"))
        return None
    kind = _KIND_BY_WORD.get(fold(raw))
    if kind is None:
        problems.append(Problem("unknown_kind", "kind", raw))
    return kind


def _gender(raw: str, problems: list[Problem]) -> str | None:
    if not raw:
        return None
    gender = _GENDER_BY_WORD.get(fold(raw))
    if gender is None:
        problems.append(Problem("unknown_gender", "gender", raw))
    return gender


_YEAR = re.compile(r"(\d{4})(?:\.0*)?")
_DAY_FIRST_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def _birth_year(raw: str, problems: list[Problem]) -> int | None:
    if not raw:
        return None
    year = _year_of(raw)
    if year is None or not 1900 <= year <= datetime.date.today().year:
        problems.append(Problem("bad_birth_year", "birth_year", raw))
        return None
    return year


def _year_of(raw: str) -> int | None:
    if match := _YEAR.fullmatch(raw):
        return int(match[1])
    if match := _DAY_FIRST_DATE.fullmatch(raw):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO_DATE.fullmatch(raw):
        year, month, day = (int(part) for part in match.groups())
    else:
        return None
    # The year is what matters; accept month-first dates too rather than reject them.
    return year if _is_date(year, month, day) or _is_date(year, day, month) else None


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def _photo(raw: str, problems: list[Problem]) -> str | None:
    if not raw:
        return None
    if "/" in raw or "\\" in raw or raw.startswith("."):
        problems.append(Problem("bad_photo_name", "photo", raw))
        return None
    return raw


def _mark_duplicate_cards(rows: list[SheetRow]) -> None:
    rows_by_card: defaultdict[str, list[SheetRow]] = defaultdict(list)
    for row in rows:
        if row.card_number:
            rows_by_card[row.card_number.casefold()].append(row)
    for same_card in rows_by_card.values():
        if len(same_card) > 1:
            for row in same_card:
                row.problems.append(
                    Problem("duplicate_card_number", "card_number", row.card_number or "")
                )
