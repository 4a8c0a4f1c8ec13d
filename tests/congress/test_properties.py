"""Properties that must hold for any input, checked with generated data: the delegate sheet
parser, card tokens, e-ballots and the tally rules."""

from __future__ import annotations

import base64
import csv
import datetime
import io
import unicodedata
from collections import Counter
from typing import Any

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkin import attendance, credentials
from congress.delegate_sheet import (
    _OLE2_MAGIC,
    _UTF8_BOM,
    _ZIP_MAGIC,
    KINDS,
    Problem,
    SheetRow,
    read_delegate_sheet,
)
from congress.voting import rules

FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=200, deadline=None)

# --- the delegate sheet -----------------------------------------------------------------

SHEET_PROBLEMS = {
    "encrypted_file",
    "xls_not_supported",
    "unsupported_file",
    "unreadable_file",
    "unreadable_encoding",
    "empty_file",
    "too_many_rows",
    "duplicate_column",
    "missing_name_column",
    "missing_name",
    "missing_kind",
    "unknown_kind",
    "unknown_gender",
    "bad_birth_year",
    "bad_photo_name",
    "duplicate_card_number",
}

ANY_FILE = st.one_of(
    st.binary(max_size=2000),
    st.tuples(
        st.sampled_from([_ZIP_MAGIC, _OLE2_MAGIC, _UTF8_BOM, b"\xff\xfe", b"\xfe\xff", b"sep=;\n"]),
        st.binary(max_size=2000),
    ).map(b"".join),
    st.text(max_size=500).map(lambda text: ("Họ và tên,Loại\n" + text).encode()),
    st.text(max_size=500).map(lambda text: ("Họ và tên\tLoại\n" + text).encode("utf-16")),
)


@MANY
@given(ANY_FILE)
def test_any_bytes_give_a_sheet_with_known_problems_and_never_an_exception(content: bytes) -> None:
    sheet = read_delegate_sheet(content)
    codes = {p.code for p in sheet.problems} | {p.code for r in sheet.rows for p in r.problems}
    assert codes <= SHEET_PROBLEMS
    assert sheet.file_type in {"csv", "xlsx", "xls", "unknown"}
    assert all(row.kind in {None, *KINDS} for row in sheet.rows)


# Letters and marks an organizer types; no "=" (a spreadsheet formula) and no control
# characters (the parser refuses those as an unreadable encoding).
LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯáàảãạấầẩẫậếềểễệốồổỗộớờởỡợứừửữựíìỉĩịýỳỷỹỵ"
CELL = st.text(alphabet=LETTERS + "0123456789 -,;\"'()", max_size=30)
NAME = st.text(alphabet=LETTERS + " ", min_size=1, max_size=30).filter(lambda s: s.strip())
KIND_WORDS = {
    "Chính thức": "official",
    "ĐBCT": "official",
    "official": "official",
    "Khách mời": "invited",
    "đại biểu khách mời": "invited",
    "Khách": "guest",
    "GUEST": "guest",
}
GENDER_WORDS = {"": None, "Nam": "male", "Nữ": "female", "male": "male", "F": "female"}
HEADERS = [
    ("Họ và tên", "Đơn vị", "Đoàn đại biểu", "Chức vụ", "Loại đại biểu", "Giới tính"),
    ("Full name", "Unit", "Delegation", "Position", "Kind", "Gender"),
]
HEADER_TAIL = {
    "vi": ("Năm sinh", "Số thẻ", "Ảnh"),
    "en": ("Birth year", "Card number", "Photo"),
}
THIS_YEAR = datetime.date.today().year


def clean(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).split())


@st.composite
def sheet_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        year = draw(st.integers(1900, THIS_YEAR))
        written_year = draw(
            st.sampled_from(
                [str(year), f"{draw(st.integers(1, 28))}/{draw(st.integers(1, 12))}/{year}", ""]
            )
        )
        rows.append(
            {
                "full_name": draw(NAME),
                "unit": draw(CELL),
                "delegation": draw(CELL),
                "position": draw(CELL),
                "kind": draw(st.sampled_from(sorted(KIND_WORDS))),
                "gender": draw(st.sampled_from(sorted(GENDER_WORDS))),
                "birth_year": written_year,
                "card_number": draw(st.text(alphabet="ABCĐab0123456789-", max_size=6)),
                "photo": draw(st.sampled_from(["", "anh.jpg", "Ảnh 01.png", "x-1.JPEG"])),
            }
        )
    return rows


def expected_rows(rows: list[dict[str, Any]]) -> list[SheetRow]:
    cards = Counter(clean(r["card_number"]).casefold() for r in rows if clean(r["card_number"]))
    expected = []
    for line, row in enumerate(rows, start=2):
        card = clean(row["card_number"]) or None
        year = row["birth_year"]
        duplicate = card is not None and cards[card.casefold()] > 1
        expected.append(
            SheetRow(
                line=line,
                full_name=clean(row["full_name"]),
                unit=clean(row["unit"]),
                delegation=clean(row["delegation"]),
                position=clean(row["position"]),
                kind=KIND_WORDS[row["kind"]],
                gender=GENDER_WORDS[row["gender"]],
                birth_year=int(year[-4:]) if year else None,
                card_number=card,
                photo=row["photo"] or None,
                problems=[Problem("duplicate_card_number", "card_number", card or "")]
                if duplicate
                else [],
            )
        )
    return expected


def table(rows: list[dict[str, Any]], english: bool) -> list[list[str]]:
    header = [*HEADERS[english], *HEADER_TAIL["en" if english else "vi"]]
    fields = ("full_name", "unit", "delegation", "position", "kind", "gender")
    tail = ("birth_year", "card_number", "photo")
    return [header, *([row[f] for f in (*fields, *tail)] for row in rows)]


def as_csv(cells: list[list[str]], encoding: str, delimiter: str) -> bytes:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter).writerows(cells)
    return text.getvalue().encode(encoding)


def as_xlsx(cells: list[list[str]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for values in cells:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@FEW
@given(
    sheet_rows(),
    st.booleans(),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    st.sampled_from([",", ";", "\t"]),
)
def test_valid_rows_come_back_the_same_from_csv_and_xlsx(
    rows: list[dict[str, Any]], english: bool, encoding: str, delimiter: str
) -> None:
    cells = table(rows, english)
    expected = expected_rows(rows)
    from_csv = read_delegate_sheet(as_csv(cells, encoding, delimiter))
    from_xlsx = read_delegate_sheet(as_xlsx(cells))
    for sheet in (from_csv, from_xlsx):
        assert sheet.problems == []
        assert sheet.rows == expected
    assert from_csv.file_type == "csv"
    assert from_xlsx.file_type == "xlsx"


# --- card tokens ------------------------------------------------------------------------

TOKENS = st.binary(min_size=16, max_size=16).map(
    lambda raw: base64.b32encode(raw).decode().rstrip("=")
)


@MANY
@given(st.text(max_size=60))
def test_any_string_is_no_token_or_a_valid_one(raw: str) -> None:
    token = credentials.parse_token(raw)
    assert token is None or (
        len(token) == 26 and set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    )


@MANY
@given(TOKENS)
def test_a_token_comes_back_from_its_address_in_either_case(token: str) -> None:
    address = credentials.card_address(token)
    for form in (address, address.upper(), address.lower()):
        tail = form.rsplit("/", 1)[-1]
        assert credentials.parse_token(tail) == token
        assert credentials.parse_token(f"  {tail}\n") == token
        # What the tablet reads from a scanned code: the address, or the token alone.
        match = attendance._CARD_IN_URL.search(form)
        assert match is not None
        assert credentials.parse_token(match.group(1)) == token


# --- e-ballots --------------------------------------------------------------------------

BALLOT_ERRORS = {"no_choice", "too_many_choices", "too_many_names", "unknown_option"}
BALLOT_ERRORS |= {"duplicate_option"}
KEYS = st.text(alphabet="abc123", min_size=1, max_size=3)
MAJORITY_BASES: tuple[rules.MajorityBase, ...] = ("collected", "valid", "present", "convened")


@st.composite
def poll_rules(draw: st.DrawFn) -> rules.Rules:
    base = draw(st.sampled_from(MAJORITY_BASES))
    if draw(st.booleans()):
        return rules.Rules(kind="motion", options=rules.MOTION_OPTIONS, majority_base=base)
    options = draw(st.lists(KEYS, min_size=1, max_size=7, unique=True))
    seats = draw(st.integers(1, len(options)))
    return rules.Rules(kind="election", options=tuple(options), seats=seats, majority_base=base)


@MANY
@given(poll_rules(), st.data())
def test_a_ballot_is_refused_with_a_known_code_or_kept_in_order(
    poll: rules.Rules, data: st.DataObject
) -> None:
    choices = data.draw(st.lists(st.one_of(st.sampled_from(poll.options), KEYS), max_size=9))
    try:
        kept = rules.check_ballot(poll, choices)
    except rules.BallotError as error:
        refused: str | None = error.code
    else:
        refused = None
    if refused is not None:
        assert refused in BALLOT_ERRORS
        return
    assert set(kept) == set(choices)
    assert len(kept) == len(choices) <= poll.seats
    assert list(kept) == [option for option in poll.options if option in kept]
    if poll.kind == "motion":
        assert len(kept) == 1


# --- the tally --------------------------------------------------------------------------


def ballots_for(poll: rules.Rules) -> st.SearchStrategy[list[tuple[str, ...]]]:
    one: st.SearchStrategy[tuple[str, ...]]
    if poll.kind == "motion":
        one = st.sampled_from(poll.options).map(lambda option: (option,))
    else:
        names = st.lists(st.sampled_from(poll.options), max_size=poll.seats, unique=True)
        one = names.map(lambda chosen: tuple(chosen))
    return st.lists(one, max_size=25)


@st.composite
def polls_counted(draw: st.DrawFn) -> dict[str, Any]:
    poll = draw(poll_rules())
    e_ballots = draw(ballots_for(poll))
    paper_ballots = draw(ballots_for(poll)) if draw(st.booleans()) else None
    paper = None
    if paper_ballots is not None:
        valid = len(paper_ballots)
        invalid = draw(st.integers(0, 5))
        votes = Counter(option for ballot in paper_ballots for option in ballot)
        paper = rules.PaperCounts(
            issued=valid + invalid + draw(st.integers(0, 5)),
            collected=valid + invalid,
            valid=valid,
            invalid=invalid,
            votes=dict(votes),
        )
    return {
        "poll": poll,
        "e_ballots": e_ballots,
        "paper": paper,
        "present": draw(st.integers(0, 60)),
        "convened": draw(st.integers(0, 60)),
        "order": draw(st.permutations(range(len(e_ballots)))),
    }


def expected_base(counted: dict[str, Any]) -> int:
    paper: rules.PaperCounts | None = counted["paper"]
    e_count = len(counted["e_ballots"])
    return {
        "collected": e_count + (paper.collected if paper else 0),
        "valid": e_count + (paper.valid if paper else 0),
        "present": counted["present"],
        "convened": counted["convened"],
    }[counted["poll"].majority_base]


def all_ints(value: Any) -> bool:
    if isinstance(value, bool | str | None):
        return True
    if isinstance(value, int):
        return type(value) is int
    if isinstance(value, tuple):
        return all(all_ints(item) for item in value)
    if isinstance(value, rules.Outcome):
        return all_ints((value.votes, value.elected, value.tied, value.option))
    return False


@MANY
@given(polls_counted())
def test_the_tally_elects_the_top_with_more_than_half_and_reports_ties(
    counted: dict[str, Any],
) -> None:
    poll: rules.Rules = counted["poll"]
    paper: rules.PaperCounts | None = counted["paper"]
    result = rules.tally(
        poll,
        counted["e_ballots"],
        paper,
        present=counted["present"],
        convened=counted["convened"],
    )
    votes = Counter(option for ballot in counted["e_ballots"] for option in ballot)
    votes.update(paper.votes if paper else {})
    base = expected_base(counted)
    assert result.base == base
    assert {o.option: o.votes for o in result.outcomes} == {o: votes[o] for o in poll.options}

    def qualifies(option: str) -> bool:
        return base > 0 and 2 * votes[option] > base

    if poll.kind == "motion":
        assert result.passed is qualifies("agree")
        assert [o.option for o in result.outcomes] == list(rules.MOTION_OPTIONS)
    else:
        # An option is elected when it has more than half of the base and its whole group of
        # equal votes fits within the seats together with everyone above it; it is tied when
        # the seats run out inside its group.
        above = {o: sum(votes[p] > votes[o] for p in poll.options) for o in poll.options}
        level = {o: sum(votes[p] == votes[o] for p in poll.options) for o in poll.options}
        elected = {o for o in poll.options if qualifies(o) and above[o] + level[o] <= poll.seats}
        tied = {
            o for o in poll.options if qualifies(o) and above[o] < poll.seats < above[o] + level[o]
        }
        assert set(result.elected) == elected
        assert set(result.tied) == tied
        assert len(result.elected) <= poll.seats
        assert result.seats_left == poll.seats - len(elected)
        assert not tied or len(tied) > result.seats_left
        assert [o.votes for o in result.outcomes] == sorted(
            (o.votes for o in result.outcomes), reverse=True
        )
        assert {o.option for o in result.outcomes if o.elected} == elected
        assert {o.option for o in result.outcomes if o.tied} == tied
    # Integers only, and the order of the ballots changes nothing.
    assert all(all_ints(getattr(result, field)) for field in result.__struct_fields__)
    shuffled = [counted["e_ballots"][i] for i in counted["order"]]
    again = rules.tally(
        poll, shuffled, paper, present=counted["present"], convened=counted["convened"]
    )
    assert again == result
