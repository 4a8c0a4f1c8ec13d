import csv
import datetime
import io
import re
import unicodedata
import zipfile
from collections.abc import Sequence

import openpyxl
import pytest

from congress import delegate_sheet
from congress.delegate_sheet import Problem, fold, read_delegate_sheet

VI_HEADER = [
    "STT",
    "Họ và tên",
    "Đơn vị công tác",
    "Đoàn đại biểu",
    "Chức vụ",
    "Loại đại biểu",
    "Giới tính",
    "Năm sinh",
    "Số thẻ",
    "Ảnh",
]
HANH = [
    "1",
    "Nguyễn Thị Hạnh",
    "LĐLĐ tỉnh Hà Tĩnh",
    "Đoàn Công đoàn ngành Giáo dục",
    "Phó Chủ tịch",
    "Chính thức",
    "Nữ",
    "1975",
    "ĐB-001",
    "hanh.jpg",
]
DUC = [
    "2",
    "Đặng Văn Đức",
    "Công ty Formosa",
    "Đoàn khối doanh nghiệp",
    "",
    "Khách mời",
    "Nam",
    "",
    "",
    "",
]
A_ROW = ["Nguyễn Văn A", "Chính thức"]
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def csv_bytes(
    rows: Sequence[Sequence[str]], encoding: str = "utf-8", delimiter: str = ","
) -> bytes:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter).writerows(rows)
    return text.getvalue().encode(encoding)


def cp1258_bytes(text: str) -> bytes:
    """Encode as old Vietnamese Excel does: letter (with its shape mark) + combining tone mark."""
    chars = []
    for char in unicodedata.normalize("NFC", text):
        marks = unicodedata.normalize("NFD", char)
        tone = "".join(mark for mark in marks if mark in TONE_MARKS)
        shaped = "".join(mark for mark in marks if mark not in TONE_MARKS)
        chars.append(unicodedata.normalize("NFC", shaped) + tone)
    return "".join(chars).encode("cp1258")


def xlsx_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for line, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            sheet.cell(line, column, value)
    content = io.BytesIO()
    workbook.save(content)
    return content.getvalue()


def only_row(content: bytes) -> delegate_sheet.SheetRow:
    sheet = read_delegate_sheet(content)
    assert sheet.problems == []
    assert len(sheet.rows) == 1
    return sheet.rows[0]


def row_with(header: list[str], values: list[str]) -> delegate_sheet.SheetRow:
    return only_row(csv_bytes([header, values]))


def file_problems(content: bytes) -> list[str]:
    sheet = read_delegate_sheet(content)
    assert sheet.rows == []
    assert sheet.has_errors
    return [problem.code for problem in sheet.problems]


# --- reading each kind of file ---------------------------------------------------------------


def test_utf8_csv_reads_every_field() -> None:
    sheet = read_delegate_sheet(csv_bytes([VI_HEADER, HANH, DUC]))

    assert (sheet.file_type, sheet.encoding) == ("csv", "utf-8")
    assert not sheet.has_errors
    hanh, duc = sheet.rows
    assert hanh == delegate_sheet.SheetRow(
        line=2,
        full_name="Nguyễn Thị Hạnh",
        unit="LĐLĐ tỉnh Hà Tĩnh",
        delegation="Đoàn Công đoàn ngành Giáo dục",
        position="Phó Chủ tịch",
        kind="official",
        gender="female",
        birth_year=1975,
        card_number="ĐB-001",
        photo="hanh.jpg",
        problems=[],
    )
    assert (duc.line, duc.full_name, duc.kind, duc.gender) == (3, "Đặng Văn Đức", "invited", "male")
    assert (duc.position, duc.birth_year, duc.card_number, duc.photo) == ("", None, None, None)


def test_columns_map_header_text_and_row_number_column_is_dropped() -> None:
    sheet = read_delegate_sheet(csv_bytes([[*VI_HEADER, "Ghi chú"], [*HANH, "đến muộn"]]))

    assert sheet.columns == {
        "Họ và tên": "full_name",
        "Đơn vị công tác": "unit",
        "Đoàn đại biểu": "delegation",
        "Chức vụ": "position",
        "Loại đại biểu": "kind",
        "Giới tính": "gender",
        "Năm sinh": "birth_year",
        "Số thẻ": "card_number",
        "Ảnh": "photo",
    }
    assert sheet.ignored_columns == ["Ghi chú"]
    assert not sheet.has_errors


def test_utf8_bom_csv() -> None:
    sheet = read_delegate_sheet(csv_bytes([VI_HEADER, HANH], encoding="utf-8-sig"))

    assert sheet.encoding == "utf-8-sig"
    assert "Họ và tên" in sheet.columns
    assert sheet.rows[0].full_name == "Nguyễn Thị Hạnh"


def test_cp1258_csv_comes_back_as_nfc() -> None:
    content = cp1258_bytes("Họ và tên,Loại\nNguyễn Thị Hạnh,Chính thức\nĐặng Ượt Ậu,Khách\n")
    assert b"\xea\xde" in content  # "ê" followed by a combining tilde, as Excel writes "ễ"

    sheet = read_delegate_sheet(content)

    assert sheet.encoding == "cp1258"
    assert [row.full_name for row in sheet.rows] == ["Nguyễn Thị Hạnh", "Đặng Ượt Ậu"]
    assert all(unicodedata.is_normalized("NFC", row.full_name) for row in sheet.rows)
    assert [row.kind for row in sheet.rows] == ["official", "guest"]


def test_decomposed_utf8_is_normalised_and_whitespace_collapsed() -> None:
    name = unicodedata.normalize("NFD", "  Nguyễn   Thị\u00a0Hạnh ")

    row = row_with(["Họ và tên", "Loại"], [name, "Chính thức"])

    assert row.full_name == "Nguyễn Thị Hạnh"
    assert unicodedata.is_normalized("NFC", row.full_name)


def test_utf16_tab_separated_csv() -> None:
    """Excel's "Unicode Text" export."""
    sheet = read_delegate_sheet(csv_bytes([VI_HEADER, HANH], encoding="utf-16", delimiter="\t"))

    assert sheet.encoding == "utf-16"
    assert sheet.rows[0].full_name == "Nguyễn Thị Hạnh"
    assert sheet.rows[0].unit == "LĐLĐ tỉnh Hà Tĩnh"


def test_semicolon_csv() -> None:
    sheet = read_delegate_sheet(csv_bytes([VI_HEADER, HANH, DUC], delimiter=";"))

    assert len(sheet.columns) == 9
    assert [row.full_name for row in sheet.rows] == ["Nguyễn Thị Hạnh", "Đặng Văn Đức"]


def test_semicolon_csv_with_commas_in_values() -> None:
    rows = [["Họ và tên", "Chức vụ", "Loại"], ["Lê Thị B", "Chủ tịch, Bí thư", "Chính thức"]]

    row = only_row(csv_bytes(rows, delimiter=";"))

    assert row.position == "Chủ tịch, Bí thư"


def test_excel_separator_hint_line() -> None:
    content = b"sep=;\r\n" + csv_bytes([["Họ và tên", "Loại"], A_ROW], delimiter=";")

    row = only_row(content)

    assert (row.line, row.full_name) == (2, "Nguyễn Văn A")


def test_xlsx_with_vietnamese_headers() -> None:
    sheet = read_delegate_sheet(xlsx_bytes([VI_HEADER, HANH]))

    assert (sheet.file_type, sheet.encoding) == ("xlsx", None)
    assert not sheet.has_errors
    row = sheet.rows[0]
    assert (row.line, row.full_name, row.kind, row.birth_year) == (
        2,
        "Nguyễn Thị Hạnh",
        "official",
        1975,
    )
    assert (row.card_number, row.photo) == ("ĐB-001", "hanh.jpg")


def test_xlsx_with_english_headers() -> None:
    header = ["No.", "Full name", "Organization", "Delegation", "Title", "Type", "Sex"]
    more = ["Year of birth", "Card No", "Photo file"]
    values: list[object] = [
        1,
        "Jane Doe",
        "ILO",
        "Guests",
        "Observer",
        "guest",
        "F",
        1980,
        7,
        "j.png",
    ]

    sheet = read_delegate_sheet(xlsx_bytes([header + more, values]))

    assert set(sheet.columns.values()) == {
        "full_name",
        "unit",
        "delegation",
        "position",
        "kind",
        "gender",
        "birth_year",
        "card_number",
        "photo",
    }
    assert sheet.ignored_columns == []
    row = sheet.rows[0]
    assert (row.full_name, row.unit, row.kind, row.gender) == ("Jane Doe", "ILO", "guest", "female")
    assert (row.birth_year, row.card_number, row.photo) == (1980, "7", "j.png")


def test_xlsx_with_title_row_above_header() -> None:
    rows = [
        ["DANH SÁCH ĐẠI BIỂU DỰ ĐẠI HỘI"],
        ["Công đoàn tỉnh Hà Tĩnh lần thứ XIX"],
        [],
        VI_HEADER,
        HANH,
        [],
        DUC,
    ]

    sheet = read_delegate_sheet(xlsx_bytes(rows))

    assert sheet.ignored_columns == []
    assert [(row.line, row.full_name) for row in sheet.rows] == [
        (5, "Nguyễn Thị Hạnh"),
        (7, "Đặng Văn Đức"),
    ]


def test_csv_with_title_row_and_blank_lines_keeps_line_numbers() -> None:
    title = [["DANH SÁCH ĐẠI BIỂU"], ["Đơn vị:", "LĐLĐ tỉnh Hà Tĩnh"], []]
    content = csv_bytes([*title, ["Họ và tên", "Loại"], A_ROW, [], ["Lê B", "Khách"]])

    sheet = read_delegate_sheet(content)

    assert [(row.line, row.full_name) for row in sheet.rows] == [(5, "Nguyễn Văn A"), (7, "Lê B")]


def test_multiline_cell_counts_as_one_spreadsheet_row() -> None:
    content = csv_bytes(
        [
            ["Họ và tên", "Chức vụ", "Loại"],
            ["Lê B", "Chủ tịch\nCĐ tỉnh", "Khách"],
            ["Lê C", "", "Khách"],
        ]
    )

    sheet = read_delegate_sheet(content)

    assert [(row.line, row.position) for row in sheet.rows] == [(2, "Chủ tịch CĐ tỉnh"), (3, "")]


@pytest.mark.parametrize(
    ("headers", "fields"),
    [
        (["ho va ten", "loai dai bieu", "nam sinh"], ["full_name", "kind", "birth_year"]),
        (["HỌ TÊN", "ĐOÀN", "GIOI TINH"], ["full_name", "delegation", "gender"]),
        (
            ["  Họ  và tên (*) ", "Năm sinh:", "Số thẻ *"],
            ["full_name", "birth_year", "card_number"],
        ),
        (["Họ và tên đại biểu", "Chức danh", "Tên tệp ảnh"], ["full_name", "position", "photo"]),
        (["full_name", "card_number", "birth_year"], ["full_name", "card_number", "birth_year"]),
        (["Name", "Unit", "Kind"], ["full_name", "unit", "kind"]),
    ],
)
def test_header_variants(headers: list[str], fields: list[str]) -> None:
    sheet = read_delegate_sheet(csv_bytes([headers, ["x", "y", "z"]]))

    assert list(sheet.columns.values()) == fields
    assert sheet.ignored_columns == []


@pytest.mark.parametrize("row_number", ["STT", "tt", "No", "No.", "#"])
def test_row_number_column_is_dropped_silently(row_number: str) -> None:
    sheet = read_delegate_sheet(csv_bytes([[row_number, "Họ và tên", "Loại"], ["1", *A_ROW]]))

    assert sheet.ignored_columns == []
    assert list(sheet.columns.values()) == ["full_name", "kind"]
    assert sheet.rows[0].full_name == "Nguyễn Văn A"


def rewrite_sheet_xml(content: bytes, pattern: str, replacement: str) -> bytes:
    """Change the stored worksheet XML the way other spreadsheet programs write it."""
    rewritten = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(rewritten, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                xml, count = re.subn(pattern, replacement, data.decode())
                assert count
                data = xml.encode()
            target.writestr(name, data)
    return rewritten.getvalue()


def test_xlsx_cell_values_are_turned_into_text() -> None:
    header = ["Họ và tên", "Loại", "Năm sinh", "Số thẻ", "Đơn vị"]
    content = xlsx_bytes([header, ["Lê B", "Khách", 1975, 123, 12.5]])
    content = rewrite_sheet_xml(content, r"<v>(1975|123)</v>", r"<v>\1.0</v>")

    row = only_row(content)

    assert (row.birth_year, row.card_number, row.unit) == (1975, "123", "12.5")


def test_xlsx_with_a_wrong_stored_size_is_read_whole() -> None:
    content = xlsx_bytes([VI_HEADER, HANH, DUC])
    content = rewrite_sheet_xml(content, r'<dimension ref="[^"]*"', '<dimension ref="A1:B2"')

    sheet = read_delegate_sheet(content)

    assert len(sheet.columns) == 9
    assert [row.full_name for row in sheet.rows] == ["Nguyễn Thị Hạnh", "Đặng Văn Đức"]
    assert sheet.rows[0].photo == "hanh.jpg"


def test_xlsx_date_cell_gives_birth_year() -> None:
    values: list[object] = ["Lê B", "Khách", datetime.datetime(1975, 3, 15)]

    row = only_row(xlsx_bytes([["Họ và tên", "Loại", "Ngày sinh"], values]))

    assert row.birth_year == 1975


def test_blank_rows_and_rows_with_only_a_row_number_are_skipped() -> None:
    rows = [
        ["STT", "Họ và tên", "Loại"],
        ["1", *A_ROW],
        [" ", "", " "],
        ["2", "", ""],
        ["3", "", ""],
    ]

    sheet = read_delegate_sheet(csv_bytes(rows))

    assert [row.full_name for row in sheet.rows] == ["Nguyễn Văn A"]
    assert not sheet.has_errors


def test_short_rows_are_filled_with_empty_values() -> None:
    content = "Họ và tên,Loại,Đơn vị\nLê B\n".encode()

    row = read_delegate_sheet(content).rows[0]

    assert (row.full_name, row.unit, row.problems) == (
        "Lê B",
        "",
        [Problem("missing_kind", "kind")],
    )


# --- values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("Chính thức", "official"),
        ("ĐẠI BIỂU CHÍNH THỨC", "official"),
        ("ĐBCT", "official"),
        ("chinh thuc", "official"),
        ("official", "official"),
        ("Khách mời", "invited"),
        ("Đại biểu khách mời", "invited"),
        ("Invited", "invited"),
        ("Khách", "guest"),
        ("guest", "guest"),
    ],
)
def test_kind_values(raw: str, kind: str) -> None:
    row = row_with(["Họ và tên", "Loại"], ["Lê B", raw])

    assert (row.kind, row.problems) == (kind, [])


@pytest.mark.parametrize(
    ("raw", "gender"),
    [
        ("Nam", "male"),
        ("male", "male"),
        ("M", "male"),
        ("Nữ", "female"),
        ("NU", "female"),
        ("Female", "female"),
        ("f", "female"),
        ("", None),
    ],
)
def test_gender_values(raw: str, gender: str | None) -> None:
    row = row_with(["Họ và tên", "Loại", "Giới tính"], [*A_ROW, raw])

    assert (row.gender, row.problems) == (gender, [])


@pytest.mark.parametrize(
    ("raw", "year"),
    [
        ("1975", 1975),
        ("1975.0", 1975),
        ("15/03/1975", 1975),
        ("5-3-1975", 1975),
        ("03/15/1975", 1975),
        ("1975-03-15", 1975),
        ("1900", 1900),
        ("", None),
    ],
)
def test_birth_year_values(raw: str, year: int | None) -> None:
    row = row_with(["Họ và tên", "Loại", "Năm sinh"], [*A_ROW, raw])

    assert (row.birth_year, row.problems) == (year, [])


def test_card_number_and_photo_are_kept_as_text() -> None:
    row = row_with(["Họ và tên", "Loại", "Số thẻ", "Ảnh"], [*A_ROW, " 00123 ", "Nguyễn A.JPG"])

    assert (row.card_number, row.photo) == ("00123", "Nguyễn A.JPG")


# --- row problems ---------------------------------------------------------------------------


def test_missing_name() -> None:
    content = csv_bytes([["Họ và tên", "Đơn vị", "Loại"], ["", "LĐLĐ tỉnh", "Chính thức"]])

    sheet = read_delegate_sheet(content)

    assert sheet.rows[0].problems == [Problem("missing_name", "full_name")]
    assert sheet.has_errors


def test_missing_kind_is_not_guessed() -> None:
    row = row_with(["Họ và tên", "Loại"], ["Lê B", ""])

    assert (row.kind, row.problems) == (None, [Problem("missing_kind", "kind")])


def test_missing_kind_column_is_reported_on_every_row() -> None:
    sheet = read_delegate_sheet(csv_bytes([["Họ và tên", "Đơn vị"], ["Lê B", "X"], ["Lê C", "Y"]]))

    assert [row.problems for row in sheet.rows] == [[Problem("missing_kind", "kind")]] * 2


def test_unknown_kind() -> None:
    row = row_with(["Họ và tên", "Loại"], ["Lê B", "Dự khuyết"])

    assert (row.kind, row.problems) == (None, [Problem("unknown_kind", "kind", "Dự khuyết")])


def test_unknown_gender() -> None:
    row = row_with(["Họ và tên", "Loại", "Giới tính"], [*A_ROW, "Khác"])

    assert (row.gender, row.problems) == (None, [Problem("unknown_gender", "gender", "Khác")])


@pytest.mark.parametrize(
    "raw", ["abc", "1899", "3000", "1975.5", "75", "31/02/1975", "15/03/1875", "1975-13-45"]
)
def test_bad_birth_year(raw: str) -> None:
    row = row_with(["Họ và tên", "Loại", "Năm sinh"], [*A_ROW, raw])

    assert (row.birth_year, row.problems) == (None, [Problem("bad_birth_year", "birth_year", raw)])


def test_birth_year_in_the_future_is_bad() -> None:
    next_year = str(datetime.date.today().year + 1)

    row = row_with(["Họ và tên", "Loại", "Năm sinh"], [*A_ROW, next_year])

    assert row.problems == [Problem("bad_birth_year", "birth_year", next_year)]


@pytest.mark.parametrize(
    "raw", ["../etc/passwd", "anh/a.jpg", "C:\\anh\\a.jpg", "..", ".hidden.jpg"]
)
def test_bad_photo_name(raw: str) -> None:
    row = row_with(["Họ và tên", "Loại", "Ảnh"], [*A_ROW, raw])

    assert (row.photo, row.problems) == (None, [Problem("bad_photo_name", "photo", raw)])


def test_duplicate_card_number_is_marked_on_every_row_carrying_it() -> None:
    rows = [["Họ và tên", "Loại", "Số thẻ"], ["Lê A", "Khách", "db-01"], ["Lê B", "Khách", "DB-02"]]
    rows += [["Lê C", "Khách", " DB-01 "], ["Lê D", "Khách", ""], ["Lê E", "Khách", ""]]

    sheet = read_delegate_sheet(csv_bytes(rows))

    assert [row.problems for row in sheet.rows] == [
        [Problem("duplicate_card_number", "card_number", "db-01")],
        [],
        [Problem("duplicate_card_number", "card_number", "DB-01")],
        [],
        [],
    ]


def test_one_row_can_carry_several_problems() -> None:
    header = ["Họ và tên", "Loại", "Giới tính", "Năm sinh", "Ảnh"]

    row = row_with(header, ["", "?", "?", "?", "../a"])

    assert [problem.code for problem in row.problems] == [
        "missing_name",
        "unknown_kind",
        "unknown_gender",
        "bad_birth_year",
        "bad_photo_name",
    ]


# --- file problems --------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\r\n\n  \n", b",,,\n , ,\n", "\ufeff".encode()])
def test_empty_csv(content: bytes) -> None:
    assert file_problems(content) == ["empty_file"]


def test_empty_xlsx() -> None:
    assert file_problems(xlsx_bytes([])) == ["empty_file"]


def test_header_without_rows_is_not_an_error() -> None:
    sheet = read_delegate_sheet(csv_bytes([VI_HEADER]))

    assert (sheet.rows, sheet.problems, sheet.has_errors) == ([], [], False)


def test_legacy_xls_is_refused() -> None:
    content = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000)

    assert file_problems(content) == ["xls_not_supported"]


def test_password_protected_xlsx_is_refused() -> None:
    content = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600) + "EncryptedPackage".encode("utf-16-le")
    )

    assert file_problems(content) == ["encrypted_file"]


def zip_bytes(names: list[str]) -> bytes:
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as archive:
        for name in names:
            archive.writestr(name, "<not really xml")
    return content.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"%PDF-1.7\n" + bytes(range(256)),
        zip_bytes(["word/document.xml"]),
        b"PK\x03\x04 broken zip",
    ],
    ids=["png", "pdf", "docx", "broken-zip"],
)
def test_unsupported_file(content: bytes) -> None:
    assert file_problems(content) == ["unsupported_file"]


def test_unreadable_xlsx() -> None:
    assert file_problems(zip_bytes(["xl/workbook.xml", "[Content_Types].xml"])) == [
        "unreadable_file"
    ]


def test_csv_cell_beyond_the_csv_field_limit_is_unreadable() -> None:
    content = csv_bytes([["Họ và tên", "Loại"], ["x" * (csv.field_size_limit() + 1), "Khách"]])

    assert file_problems(content) == ["unreadable_file"]


@pytest.mark.parametrize(
    "content",
    [
        "Họ và tên,Loại\nLê B,Khách\n".encode() + b"\x81\x8d",  # neither UTF-8 nor cp1258
        b"H\xe1 v\xe0 t\xean,Lo\xe1i\nL\xea B\x1b,Kh\xe1ch\n",  # cp1258 with an escape character
        b"Ho va ten\nA\x01\n",
        b"\xff\xfeH\x00o\x00\x00",  # UTF-16 cut in the middle of a character
    ],
)
def test_unreadable_encoding(content: bytes) -> None:
    assert file_problems(content) == ["unreadable_encoding"]


def test_missing_name_column() -> None:
    sheet = read_delegate_sheet(csv_bytes([["Đơn vị", "Loại"], ["LĐLĐ", "Khách"]]))

    assert sheet.problems == [Problem("missing_name_column", "full_name")]
    assert (sheet.rows, sheet.columns) == ([], {"Đơn vị": "unit", "Loại": "kind"})


def test_duplicate_column() -> None:
    content = csv_bytes([["Họ và tên", "Loại", "Họ tên"], ["Lê B", "Khách", "Lê B"]])

    sheet = read_delegate_sheet(content)

    assert sheet.problems == [Problem("duplicate_column", "full_name", "Họ tên")]
    assert sheet.rows == []


@pytest.mark.parametrize("as_xlsx", [False, True], ids=["csv", "xlsx"])
def test_too_many_rows(monkeypatch: pytest.MonkeyPatch, as_xlsx: bool) -> None:
    monkeypatch.setattr(delegate_sheet, "MAX_ROWS", 3)
    rows = [["Họ và tên", "Loại"]] + [[f"Lê {n}", "Khách"] for n in range(4)]
    content = xlsx_bytes(rows) if as_xlsx else csv_bytes(rows)

    assert file_problems(content) == ["too_many_rows"]
    monkeypatch.setattr(delegate_sheet, "MAX_ROWS", 4)
    assert len(read_delegate_sheet(content).rows) == 4


# --- fold -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("  Nguyễn Thị HẠNH ", "nguyen thi hanh"),
        ("Đức", "duc"),
        ("ĐẶNG", "dang"),
        ("đường", "duong"),
        ("Trương Thị Ửng Ợt", "truong thi ung ot"),
        ("Ơn  Ưu\t\nỜ", "on uu o"),
        (unicodedata.normalize("NFD", "Lê Thị Hạnh"), "le thi hanh"),
        ("Hà\u00a0Tĩnh", "ha tinh"),
        ("ABC  def", "abc def"),
        ("", ""),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded
