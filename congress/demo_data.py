"""The demo congress: the 19th congress of the Hà Tĩnh provincial trade union federation.

Everything is generated from a fixed seed, so the same seed always gives the same congress.
People's names are drawn at random from common Vietnamese names; the places are the real
districts, communes and wards of Hà Tĩnh (as they were in 2023), the schools, hospitals and
companies are real or real-sounding. No real person is named.

This module only produces plain Structs; storing them is someone else's job.
"""

import datetime
import random
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from congress.text import clean, name_sort_key

__all__ = [
    "DemoAgendaItem",
    "DemoCongress",
    "DemoDelegate",
    "DemoDelegation",
    "DemoSitting",
    "demo_congress",
]


class DemoAgendaItem(msgspec.Struct):
    title: str
    presenter: str
    duration_minutes: int


class DemoSitting(msgspec.Struct):
    title: str
    kind: str  # preparatory | plenary | closing
    starts_at: datetime.datetime  # naive, local time in Asia/Ho_Chi_Minh
    location: str
    agenda: list[DemoAgendaItem]


class DemoDelegation(msgspec.Struct):
    code: str
    name: str


class DemoDelegate(msgspec.Struct):
    full_name: str
    gender: str  # male | female
    birth_year: int
    delegation_code: str
    unit: str
    position: str
    kind: str  # official | invited | guest
    card_number: str


class DemoCongress(msgspec.Struct):
    name: str
    number: str
    term: str
    organizing_union: str
    venue: str
    starts_on: datetime.date
    ends_on: datetime.date
    sittings: list[DemoSitting]
    delegations: list[DemoDelegation]
    delegates: list[DemoDelegate]


# --- The congress and its sittings -------------------------------------------------------

VENUE = "Trung tâm Văn hóa – Điện ảnh tỉnh Hà Tĩnh"
STARTS_ON = datetime.date(2023, 10, 10)
ENDS_ON = datetime.date(2023, 10, 11)

_PRESIDIUM = "Đoàn Chủ tịch Đại hội"
_CHAIR = "Chủ tịch LĐLĐ tỉnh"

# (title, kind, start, agenda as (title, presenter, minutes))
_SITTINGS: tuple[tuple[str, str, datetime.datetime, tuple[tuple[str, str, int], ...]], ...] = (
    (
        "Phiên trù bị",
        "preparatory",
        datetime.datetime(2023, 10, 10, 14, 0),
        (
            ("Chào cờ", "", 5),
            ("Tuyên bố lý do, giới thiệu đại biểu", "Ban Tổ chức Đại hội", 10),
            (
                "Bầu Đoàn Chủ tịch, Đoàn Thư ký, Ban Thẩm tra tư cách đại biểu",
                "Phó Chủ tịch Thường trực LĐLĐ tỉnh",
                15,
            ),
            ("Thông qua chương trình, quy chế làm việc của Đại hội", _PRESIDIUM, 15),
            ("Thông qua quy chế bầu cử của Đại hội", _PRESIDIUM, 10),
            (
                "Thảo luận, góp ý dự thảo văn kiện Đại hội và dự thảo văn kiện "
                "Đại hội XIII Công đoàn Việt Nam",
                _PRESIDIUM,
                90,
            ),
            ("Bế mạc phiên trù bị", _PRESIDIUM, 5),
        ),
    ),
    (
        "Phiên chính thức thứ nhất",
        "plenary",
        datetime.datetime(2023, 10, 11, 7, 30),
        (
            ("Chương trình văn nghệ chào mừng Đại hội", "", 20),
            ("Chào cờ", "", 5),
            ("Tuyên bố lý do, giới thiệu đại biểu", "Ban Tổ chức Đại hội", 10),
            ("Khai mạc Đại hội", _CHAIR, 10),
            ("Báo cáo thẩm tra tư cách đại biểu", "Trưởng Ban Thẩm tra tư cách đại biểu", 10),
            ("Trình bày Báo cáo chính trị của BCH LĐLĐ tỉnh khóa XVIII", _CHAIR, 30),
            (
                "Báo cáo kiểm điểm của BCH LĐLĐ tỉnh khóa XVIII",
                "Phó Chủ tịch Thường trực LĐLĐ tỉnh",
                15,
            ),
            (
                "Báo cáo của Ủy ban Kiểm tra LĐLĐ tỉnh khóa XVIII",
                "Chủ nhiệm Ủy ban Kiểm tra LĐLĐ tỉnh",
                10,
            ),
            (
                "Báo cáo tổng hợp ý kiến góp ý dự thảo văn kiện Đại hội XIII Công đoàn Việt Nam",
                "Trưởng Ban Tuyên giáo LĐLĐ tỉnh",
                10,
            ),
            ("Tham luận của các đại biểu", "", 60),
            (
                "Phát biểu chỉ đạo của lãnh đạo Tổng Liên đoàn Lao động Việt Nam",
                "Phó Chủ tịch Tổng Liên đoàn Lao động Việt Nam",
                20,
            ),
            ("Phát biểu của lãnh đạo Tỉnh ủy", "Phó Bí thư Thường trực Tỉnh ủy", 20),
            ("Tiếp thu ý kiến phát biểu chỉ đạo", _CHAIR, 5),
            ("Trao Cờ thi đua, Bằng khen của Tổng Liên đoàn Lao động Việt Nam", "", 10),
        ),
    ),
    (
        "Phiên bế mạc",
        "closing",
        datetime.datetime(2023, 10, 11, 14, 0),
        (
            ("Bầu Ban Kiểm phiếu", _PRESIDIUM, 10),
            (
                "Thông qua số lượng, danh sách bầu cử Ban Chấp hành LĐLĐ tỉnh khóa XIX",
                _PRESIDIUM,
                15,
            ),
            ("Bầu Ban Chấp hành LĐLĐ tỉnh khóa XIX", "Trưởng Ban Kiểm phiếu", 40),
            ("Công bố kết quả bầu Ban Chấp hành khóa XIX", "Trưởng Ban Kiểm phiếu", 10),
            (
                "Bầu đại biểu dự Đại hội Công đoàn Việt Nam lần thứ XIII",
                "Trưởng Ban Kiểm phiếu",
                30,
            ),
            (
                "Công bố kết quả bầu đại biểu dự Đại hội Công đoàn Việt Nam lần thứ XIII",
                "Trưởng Ban Kiểm phiếu",
                10,
            ),
            ("Ban Chấp hành LĐLĐ tỉnh khóa XIX ra mắt Đại hội", "", 10),
            ("Thông qua Nghị quyết Đại hội", "Trưởng Đoàn Thư ký", 15),
            ("Bế mạc Đại hội", _PRESIDIUM, 10),
            ("Chào cờ bế mạc", "", 5),
        ),
    ),
)


def _sittings() -> list[DemoSitting]:
    return [
        DemoSitting(
            title=title,
            kind=kind,
            starts_at=starts_at,
            location=VENUE,
            agenda=[DemoAgendaItem(t, p, m) for t, p, m in agenda],
        )
        for title, kind, starts_at, agenda in _SITTINGS
    ]


# --- Names ---------------------------------------------------------------------------------

# Weights follow the usual Vietnamese distribution, tilted to Hà Tĩnh and Nghệ An, where
# Phan, Võ, Hồ, Đậu and Thái are common.
_FAMILY_NAMES = {
    "Nguyễn": 300,
    "Trần": 110,
    "Lê": 100,
    "Phan": 70,
    "Võ": 60,
    "Đặng": 45,
    "Hồ": 40,
    "Phạm": 40,
    "Hoàng": 30,
    "Bùi": 20,
    "Đậu": 15,
    "Thái": 15,
    "Đỗ": 15,
    "Ngô": 15,
    "Dương": 15,
    "Đinh": 12,
    "Trương": 10,
    "Hà": 10,
    "Cao": 10,
    "Chu": 8,
    "Lương": 8,
    "Đoàn": 8,
    "Mai": 6,
    "Đào": 6,
    "Tôn": 4,
    "Kiều": 3,
}
_MIDDLE_NAMES = {
    "male": {
        "Văn": 30,
        "Đức": 10,
        "Hữu": 8,
        "Quang": 6,
        "Minh": 6,
        "Xuân": 5,
        "Đình": 5,
        "Công": 4,
        "Thanh": 4,
        "Ngọc": 3,
        "Trọng": 3,
        "Thế": 2,
        "Anh": 2,
        "Viết": 2,
        "Bá": 2,
        "Tiến": 2,
        "Mạnh": 2,
        "Duy": 2,
        "Huy": 2,
        "Khắc": 1,
    },
    "female": {
        "Thị": 55,
        "Thu": 6,
        "Ngọc": 5,
        "Thanh": 5,
        "Hồng": 4,
        "Minh": 3,
        "Kim": 3,
        "Phương": 3,
        "Thị Thu": 3,
        "Thị Minh": 2,
        "Thị Hồng": 2,
        "Thị Thanh": 2,
        "Hoài": 2,
        "Bích": 2,
        "Hải": 2,
        "Thùy": 2,
        "Mai": 2,
        "Diệu": 1,
        "Quỳnh": 1,
    },
}
_GIVEN_NAMES = {
    "male": (  # noqa: SIM905 - names read better as lines of words than one per line
        "Anh Bình Chiến Công Cường Dũng Dương Đạt Đông Đức Hải Hậu Hiếu Hòa Hoan Hoàng Hùng "
        "Hưng Huy Khánh Khoa Kiên Lâm Lộc Lợi Long Luận Lực Mạnh Minh Nam Nghĩa Nhật Phong "
        "Phúc Phương Quân Quang Sáng Sơn Tài Tâm Thắng Thành Thọ Tiến Toàn Trí Trung Tú Tuấn "
        "Tùng Việt Vinh Vũ"
    ).split(),
    "female": (  # noqa: SIM905 - as above
        "Anh Bình Châu Chi Dung Duyên Giang Hà Hằng Hạnh Hảo Hậu Hiền Hoa Hòa Hồng Hương "
        "Huyền Lan Lệ Liên Linh Loan Ly Lý Mai Nga Ngân Nguyệt Nhàn Nhung Oanh Phương Quyên "
        "Quỳnh Sương Tâm Thảo Thắm Thanh Thơ Thủy Thúy Trang Trinh Tú Tuyết Vân Xuân Yến"
    ).split(),
}


def _full_name(rng: random.Random, gender: str) -> str:
    family = rng.choices(list(_FAMILY_NAMES), weights=list(_FAMILY_NAMES.values()))[0]
    middles = _MIDDLE_NAMES[gender]
    while True:
        middle = rng.choices(list(middles), weights=list(middles.values()))[0]
        given = rng.choice(_GIVEN_NAMES[gender])
        if given not in middle.split():  # no "Thanh Thanh", "Thị Minh Minh"
            return f"{family} {middle} {given}"


# --- Seats: a position in a unit, before a person is drawn for it --------------------------


@dataclass(frozen=True, slots=True)
class _Seat:
    position: str
    unit: str
    born: tuple[int, int]
    kind: str = "official"
    gender: str | None = None  # forced, where the post is held by one sex in practice


@dataclass(frozen=True, slots=True)
class _Workplace:
    """A grassroots union's unit; `union` is how the union is named after "CĐCS"."""

    unit: str
    occupations: tuple[str, ...]
    union: str = ""
    seats: int = 1  # large unions send several delegates

    @property
    def union_name(self) -> str:
        return self.union or self.unit


@dataclass(frozen=True, slots=True)
class _Plan:
    code: str
    name: str
    size: int
    women_share: float
    leaders: tuple[_Seat, ...]
    workplaces: tuple[_Workplace, ...] = ()


_LEADER_BORN = (1966, 1980)
_STAFF_BORN = (1970, 1988)

# (position template, weight, birth years); a workplace has only one chairperson.
_CHAIR_ROLE = "Chủ tịch CĐCS {union}"
_GRASSROOTS_ROLES: tuple[tuple[str, int, tuple[int, int]], ...] = (
    (_CHAIR_ROLE, 60, (1968, 1988)),
    ("Phó Chủ tịch CĐCS {union}", 12, (1972, 1990)),
    ("Ủy viên BCH CĐCS {union}", 8, (1975, 1993)),
    ("{occupation}, Tổ trưởng Tổ Công đoàn {union}", 10, (1975, 1993)),
    ("{occupation} {union}", 10, (1978, 1995)),
)


def _grassroots_seats(
    rng: random.Random, workplaces: Sequence[_Workplace], count: int
) -> list[_Seat]:
    pool = [w for w in workplaces for _ in range(w.seats)]
    while len(pool) < count:
        pool += pool
    chaired: set[str] = set()
    seats = []
    for workplace in rng.sample(pool, count):
        roles = [
            r for r in _GRASSROOTS_ROLES if r[0] != _CHAIR_ROLE or workplace.unit not in chaired
        ]
        template, _, born = rng.choices(roles, weights=[r[1] for r in roles])[0]
        if template == _CHAIR_ROLE:
            chaired.add(workplace.unit)
        position = template.format(
            union=workplace.union_name, occupation=rng.choice(workplace.occupations)
        )
        seats.append(_Seat(position, workplace.unit, born))
    return seats


# --- The delegations -----------------------------------------------------------------------

_PROVINCE = "Liên đoàn Lao động tỉnh Hà Tĩnh"
_BCH_MEMBER = "Ủy viên BCH LĐLĐ tỉnh, "


def _executive_committee() -> _Plan:
    staff = (
        ("Chủ tịch LĐLĐ tỉnh", (1966, 1972), None),
        ("Phó Chủ tịch Thường trực LĐLĐ tỉnh", (1966, 1975), None),
        ("Phó Chủ tịch LĐLĐ tỉnh", (1968, 1978), None),
        ("Phó Chủ tịch LĐLĐ tỉnh", (1968, 1978), None),
        ("Chủ nhiệm Ủy ban Kiểm tra LĐLĐ tỉnh", _LEADER_BORN, None),
        ("Phó Chủ nhiệm Ủy ban Kiểm tra LĐLĐ tỉnh", _STAFF_BORN, None),
        ("Trưởng Ban Tổ chức LĐLĐ tỉnh", _LEADER_BORN, None),
        ("Trưởng Ban Tuyên giáo LĐLĐ tỉnh", _LEADER_BORN, None),
        ("Trưởng Ban Chính sách – Pháp luật LĐLĐ tỉnh", _LEADER_BORN, None),
        ("Trưởng Ban Tài chính LĐLĐ tỉnh", _LEADER_BORN, None),
        ("Trưởng Ban Nữ công LĐLĐ tỉnh", _LEADER_BORN, "female"),
        ("Chánh Văn phòng LĐLĐ tỉnh", _LEADER_BORN, None),
        ("Giám đốc Trung tâm Tư vấn pháp luật Công đoàn tỉnh", _LEADER_BORN, None),
        ("Phó Trưởng Ban Tổ chức LĐLĐ tỉnh", _STAFF_BORN, None),
        ("Phó Trưởng Ban Tuyên giáo LĐLĐ tỉnh", _STAFF_BORN, None),
    )
    # Members of the committee from outside the federation's own staff.
    members = (
        ("Phó Giám đốc Sở Lao động – Thương binh và Xã hội", "Sở Lao động – Thương binh và Xã hội"),
        ("Phó Giám đốc Bảo hiểm xã hội tỉnh", "Bảo hiểm xã hội tỉnh Hà Tĩnh"),
        ("Chủ tịch Công đoàn Công ty Điện lực Hà Tĩnh", "Công ty Điện lực Hà Tĩnh"),
        ("Chủ tịch Công đoàn Viễn thông Hà Tĩnh", "Viễn thông Hà Tĩnh"),
        ("Chủ tịch Công đoàn Bưu điện tỉnh Hà Tĩnh", "Bưu điện tỉnh Hà Tĩnh"),
        ("Chủ tịch CĐCS Cục Thuế tỉnh Hà Tĩnh", "Cục Thuế tỉnh Hà Tĩnh"),
        ("Chủ tịch CĐCS Kho bạc Nhà nước Hà Tĩnh", "Kho bạc Nhà nước Hà Tĩnh"),
        (
            "Chủ tịch CĐCS Ngân hàng Nhà nước Chi nhánh tỉnh Hà Tĩnh",
            "Ngân hàng Nhà nước Chi nhánh tỉnh Hà Tĩnh",
        ),
        (
            "Phó Chủ tịch Công đoàn Công ty TNHH Gang thép Hưng Nghiệp Formosa Hà Tĩnh",
            "Công ty TNHH Gang thép Hưng Nghiệp Formosa Hà Tĩnh",
        ),
        ("Chủ tịch CĐCS Trường Đại học Hà Tĩnh", "Trường Đại học Hà Tĩnh"),
    )
    return _Plan(
        code="BCH",
        name="Đoàn đại biểu Ban Chấp hành LĐLĐ tỉnh",
        size=len(staff) + len(members),
        women_share=0.4,
        leaders=tuple(_Seat(p, _PROVINCE, born, gender=g) for p, born, g in staff)
        + tuple(_Seat(_BCH_MEMBER + p, unit, _LEADER_BORN) for p, unit in members),
    )


_SCHOOL_KINDS = ("THCS", "Tiểu học", "Mầm non")
_LOCALITY_PREFIXES = ("thị trấn ", "phường ", "xã ")


def _district(
    code: str,
    kind: str,
    name: str,
    size: int,
    localities: Sequence[str],
    companies: Sequence[str],
    deputies: int = 1,
) -> _Plan:
    """A district-level federation: its leaders, the communes' and schools' unions, firms."""
    district = f"{kind} {name}"
    workplaces = [_Workplace(f"UBND {district}", ("Chuyên viên",), f"Cơ quan UBND {district}")]
    for i, locality in enumerate(localities):
        bare = locality
        for prefix in _LOCALITY_PREFIXES:
            bare = bare.removeprefix(prefix)
        workplaces.append(_Workplace(f"UBND {locality}", ("Công chức",), locality))
        workplaces.append(
            _Workplace(f"Trường {_SCHOOL_KINDS[i % len(_SCHOOL_KINDS)]} {bare}", ("Giáo viên",))
        )
    workplaces += [_Workplace(c, ("Công nhân", "Nhân viên", "Kỹ sư")) for c in companies]
    unit = f"Liên đoàn Lao động {district}"
    leaders = (
        _Seat(f"Chủ tịch LĐLĐ {district}", unit, _LEADER_BORN),
        *(_Seat(f"Phó Chủ tịch LĐLĐ {district}", unit, _STAFF_BORN) for _ in range(deputies)),
    )
    return _Plan(code, unit, size, 0.5, leaders, tuple(workplaces))


def _sector(
    code: str,
    name: str,
    size: int,
    women_share: float,
    workplaces: Sequence[_Workplace],
    deputies: int = 1,
) -> _Plan:
    unit = f"{name} Hà Tĩnh"
    leaders = (
        _Seat(f"Chủ tịch {name}", unit, _LEADER_BORN),
        *(_Seat(f"Phó Chủ tịch {name}", unit, _STAFF_BORN) for _ in range(deputies)),
    )
    return _Plan(code, name, size, women_share, leaders, tuple(workplaces))


def _places(*names: str, occupations: tuple[str, ...], seats: int = 1) -> list[_Workplace]:
    return [_Workplace(n, occupations, seats=seats) for n in names]


_TEACHERS = ("Giáo viên",)
_CLERKS = ("Chuyên viên",)
_MEDICS = ("Bác sĩ", "Điều dưỡng", "Dược sĩ", "Kỹ thuật viên", "Hộ sinh")
_WORKERS = ("Công nhân", "Kỹ sư", "Nhân viên")

_HIGH_SCHOOLS = [
    f"Trường THPT {s}"
    for s in (
        "Chuyên Hà Tĩnh",
        "Phan Đình Phùng",
        "Thành Sen",
        "Nguyễn Du",
        "Nguyễn Công Trứ",
        "Nghi Xuân",
        "Hồng Lĩnh",
        "Can Lộc",
        "Nghèn",
        "Đồng Lộc",
        "Trần Phú",
        "Đức Thọ",
        "Nguyễn Thị Minh Khai",
        "Hương Sơn",
        "Lý Chính Thắng",
        "Cao Thắng",
        "Vũ Quang",
        "Cù Huy Cận",
        "Hương Khê",
        "Phúc Trạch",
        "Hàm Nghi",
        "Cẩm Xuyên",
        "Cẩm Bình",
        "Hà Huy Tập",
        "Nguyễn Đình Liễn",
        "Kỳ Anh",
        "Kỳ Lâm",
        "Lê Quảng Chí",
        "Nguyễn Huệ",
        "Lê Quý Đôn",
        "Lý Tự Trọng",
        "Nguyễn Trung Thiên",
        "Mai Thúc Loan",
        "Nguyễn Văn Trỗi",
        "Lộc Hà",
    )
]

_DISTRICT_HEALTH_CENTRES = [
    f"Trung tâm Y tế {d}"
    for d in (
        "thị xã Hồng Lĩnh",
        "thị xã Kỳ Anh",
        "huyện Nghi Xuân",
        "huyện Đức Thọ",
        "huyện Hương Sơn",
        "huyện Vũ Quang",
        "huyện Can Lộc",
        "huyện Lộc Hà",
        "huyện Thạch Hà",
        "huyện Cẩm Xuyên",
        "huyện Hương Khê",
        "huyện Kỳ Anh",
    )
]


def _sectors() -> list[_Plan]:
    return [
        _sector(
            "GD",
            "Công đoàn ngành Giáo dục",
            32,
            0.7,
            _places(*_HIGH_SCHOOLS, occupations=_TEACHERS)
            + _places(
                "Trường Phổ thông Dân tộc nội trú tỉnh Hà Tĩnh",
                "Trường Cao đẳng Kỹ thuật Việt – Đức Hà Tĩnh",
                occupations=("Giáo viên", "Giảng viên"),
            )
            + _places("Sở Giáo dục và Đào tạo", occupations=_CLERKS),
            deputies=2,
        ),
        _sector(
            "YT",
            "Công đoàn ngành Y tế",
            20,
            0.65,
            _places("Bệnh viện Đa khoa tỉnh Hà Tĩnh", occupations=_MEDICS, seats=3)
            + _places(
                "Bệnh viện Đa khoa thành phố Hà Tĩnh",
                "Bệnh viện Y dược cổ truyền Hà Tĩnh",
                "Bệnh viện Phục hồi chức năng Hà Tĩnh",
                "Bệnh viện Tâm thần Hà Tĩnh",
                "Bệnh viện Phổi Hà Tĩnh",
                "Bệnh viện Mắt Hà Tĩnh",
                "Bệnh viện Đa khoa khu vực Cửa khẩu quốc tế Cầu Treo",
                *_DISTRICT_HEALTH_CENTRES,
                occupations=_MEDICS,
            )
            + _places(
                "Trung tâm Kiểm soát bệnh tật tỉnh Hà Tĩnh",
                occupations=("Bác sĩ", "Kỹ thuật viên"),
            )
            + _places("Trường Cao đẳng Y tế Hà Tĩnh", occupations=("Giảng viên",))
            + _places("Sở Y tế", occupations=_CLERKS),
            deputies=2,
        ),
        _sector(
            "CT",
            "Công đoàn ngành Công Thương",
            10,
            0.4,
            _places("Sở Công Thương", occupations=_CLERKS)
            + _places(
                "Trung tâm Khuyến công và Xúc tiến thương mại Hà Tĩnh",
                "Công ty Cổ phần Thương mại Tổng hợp Hà Tĩnh",
                "Công ty Cổ phần Vật tư Tổng hợp Hà Tĩnh",
                "Công ty Cổ phần Khoáng sản Hà Tĩnh",
                "Công ty Cổ phần Điện cơ Hà Tĩnh",
                "Công ty Cổ phần Thực phẩm Hà Tĩnh",
                "Công ty TNHH Chế biến gỗ Hà Tĩnh",
                "Công ty TNHH May xuất khẩu Hà Tĩnh",
                occupations=_WORKERS,
            ),
        ),
        _sector(
            "NN",
            "Công đoàn ngành Nông nghiệp và PTNT",
            9,
            0.35,
            _places(
                "Sở Nông nghiệp và PTNT",
                "Trung tâm Khuyến nông Hà Tĩnh",
                "Chi cục Thủy sản Hà Tĩnh",
                occupations=("Chuyên viên", "Kỹ sư"),
            )
            + _places(
                "Vườn Quốc gia Vũ Quang",
                "Ban Quản lý Khu bảo tồn thiên nhiên Kẻ Gỗ",
                "Chi cục Kiểm lâm Hà Tĩnh",
                "Ban Quản lý rừng phòng hộ Ngàn Phố",
                occupations=("Kiểm lâm viên", "Kỹ sư"),
            )
            + _places(
                "Công ty TNHH MTV Thủy lợi Nam Hà Tĩnh",
                "Công ty TNHH MTV Thủy lợi Bắc Hà Tĩnh",
                occupations=_WORKERS,
            ),
        ),
        _sector(
            "GT",
            "Công đoàn ngành Giao thông Vận tải",
            7,
            0.2,
            _places("Sở Giao thông Vận tải", occupations=_CLERKS)
            + _places(
                "Công ty Cổ phần Quản lý và Xây dựng công trình giao thông Hà Tĩnh",
                "Công ty Cổ phần Vận tải ô tô Hà Tĩnh",
                "Công ty Cổ phần Xe khách Hà Tĩnh",
                "Trung tâm Đăng kiểm phương tiện giao thông Hà Tĩnh",
                "Ban Quản lý dự án đầu tư xây dựng công trình giao thông tỉnh",
                "Công ty Cổ phần Tư vấn thiết kế giao thông Hà Tĩnh",
                occupations=("Kỹ sư", "Công nhân", "Nhân viên"),
            ),
        ),
        _sector(
            "XD",
            "Công đoàn ngành Xây dựng",
            8,
            0.25,
            _places("Sở Xây dựng", occupations=_CLERKS)
            + _places(
                "Công ty Cổ phần Cấp nước Hà Tĩnh",
                "Công ty Cổ phần Môi trường và Công trình đô thị Hà Tĩnh",
                "Công ty Cổ phần Tư vấn thiết kế xây dựng Hà Tĩnh",
                "Công ty Cổ phần Xây dựng số 1 Hà Tĩnh",
                "Công ty Cổ phần Vật liệu xây dựng Hà Tĩnh",
                "Trung tâm Kiểm định chất lượng xây dựng Hà Tĩnh",
                "Ban Quản lý dự án đầu tư xây dựng công trình dân dụng và công nghiệp tỉnh",
                occupations=("Kỹ sư", "Công nhân", "Nhân viên"),
            ),
        ),
        _sector(
            "VC",
            "Công đoàn Viên chức tỉnh",
            16,
            0.5,
            _places(
                "Văn phòng UBND tỉnh",
                "Văn phòng Đoàn ĐBQH và HĐND tỉnh",
                "Sở Tài chính",
                "Sở Kế hoạch và Đầu tư",
                "Sở Nội vụ",
                "Sở Tư pháp",
                "Sở Tài nguyên và Môi trường",
                "Sở Văn hóa, Thể thao và Du lịch",
                "Sở Thông tin và Truyền thông",
                "Sở Khoa học và Công nghệ",
                "Thanh tra tỉnh",
                occupations=_CLERKS,
            )
            + _places(
                "Đài Phát thanh – Truyền hình Hà Tĩnh",
                "Báo Hà Tĩnh",
                occupations=("Phóng viên", "Biên tập viên"),
            )
            + _places(
                "Ban Quản lý Khu lưu niệm Đại thi hào Nguyễn Du",
                "Ban Quản lý Khu di tích Ngã ba Đồng Lộc",
                "Trung tâm Văn hóa – Điện ảnh tỉnh Hà Tĩnh",
                occupations=("Viên chức",),
            ),
        ),
        _sector(
            "KKT",
            "Công đoàn Khu kinh tế tỉnh",
            17,
            0.25,
            _places(
                "Công ty TNHH Gang thép Hưng Nghiệp Formosa Hà Tĩnh",
                occupations=("Công nhân", "Kỹ sư", "Kỹ thuật viên"),
                seats=4,
            )
            + _places("Công ty Điện lực Dầu khí Hà Tĩnh", occupations=_WORKERS, seats=2)
            + _places(
                "Công ty Cổ phần Cảng Vũng Áng Việt – Lào",
                "Công ty Cổ phần Đầu tư Hạ tầng Khu kinh tế Vũng Áng",
                "Công ty Cổ phần Xây lắp và Dịch vụ Vũng Áng",
                "Công ty Cổ phần Logistics Vũng Áng",
                "Công ty TNHH Cơ khí và Xây dựng Sơn Dương",
                "Công ty Cổ phần Bê tông Vũng Áng",
                "Công ty TNHH May mặc Vũng Áng",
                "Công ty Cổ phần Thương mại Cửa khẩu Cầu Treo",
                occupations=_WORKERS,
            )
            + _places(
                "Ban Quản lý Khu kinh tế tỉnh",
                "Trung tâm Quản lý hạ tầng Khu kinh tế tỉnh",
                occupations=_CLERKS,
            ),
        ),
    ]


def _districts() -> list[_Plan]:
    # In the province's official order, north to south; the localities are real.
    return [
        _district(
            "TP",
            "thành phố",
            "Hà Tĩnh",
            15,
            (
                "phường Bắc Hà",
                "phường Nam Hà",
                "phường Tân Giang",
                "phường Trần Phú",
                "phường Hà Huy Tập",
                "phường Thạch Quý",
                "phường Văn Yên",
                "phường Đại Nài",
                "phường Nguyễn Du",
                "phường Thạch Linh",
                "xã Thạch Hạ",
                "xã Đồng Môn",
            ),
            (
                "Công ty Cổ phần Dược Hà Tĩnh",
                "Công ty Cổ phần In Hà Tĩnh",
                "Công ty TNHH Thương mại và Dịch vụ Thành Sen",
            ),
            deputies=2,
        ),
        _district(
            "HL",
            "thị xã",
            "Hồng Lĩnh",
            7,
            (
                "phường Bắc Hồng",
                "phường Nam Hồng",
                "phường Đức Thuận",
                "phường Trung Lương",
                "phường Đậu Liêu",
                "xã Thuận Lộc",
            ),
            ("Công ty Cổ phần May Hồng Lĩnh", "Công ty TNHH Thương mại Hồng Lĩnh"),
        ),
        _district(
            "TKA",
            "thị xã",
            "Kỳ Anh",
            10,
            (
                "phường Sông Trí",
                "phường Hưng Trí",
                "phường Kỳ Trinh",
                "phường Kỳ Thịnh",
                "phường Kỳ Long",
                "phường Kỳ Liên",
                "phường Kỳ Phương",
                "xã Kỳ Hà",
                "xã Kỳ Ninh",
                "xã Kỳ Hoa",
            ),
            (
                "Công ty TNHH Vận tải và Dịch vụ Kỳ Anh",
                "Công ty Cổ phần Xây dựng Hoành Sơn",
                "Công ty TNHH Dịch vụ Cảng biển Sơn Dương",
            ),
        ),
        _district(
            "NX",
            "huyện",
            "Nghi Xuân",
            10,
            (
                "thị trấn Xuân An",
                "thị trấn Tiên Điền",
                "xã Xuân Hội",
                "xã Xuân Trường",
                "xã Xuân Đan",
                "xã Xuân Phổ",
                "xã Xuân Hải",
                "xã Xuân Giang",
                "xã Xuân Yên",
                "xã Xuân Thành",
                "xã Cổ Đạm",
                "xã Cương Gián",
                "xã Xuân Lĩnh",
            ),
            ("Công ty Cổ phần Du lịch Xuân Thành", "Công ty TNHH Thủy sản Xuân Hội"),
        ),
        _district(
            "DT",
            "huyện",
            "Đức Thọ",
            9,
            (
                "thị trấn Đức Thọ",
                "xã Tùng Ảnh",
                "xã Trường Sơn",
                "xã Liên Minh",
                "xã Đức Lạng",
                "xã Đức Đồng",
                "xã Yên Hồ",
                "xã Tân Hương",
                "xã Quang Vĩnh",
                "xã An Dũng",
                "xã Hòa Lạc",
            ),
            ("Công ty TNHH May Đức Thọ", "Công ty Cổ phần Gạch ngói Đức Thọ"),
        ),
        _district(
            "HS",
            "huyện",
            "Hương Sơn",
            11,
            (
                "thị trấn Phố Châu",
                "thị trấn Tây Sơn",
                "xã Sơn Hồng",
                "xã Sơn Tiến",
                "xã Sơn Lâm",
                "xã Sơn Giang",
                "xã Sơn Ninh",
                "xã Sơn Châu",
                "xã Sơn Bình",
                "xã Sơn Trung",
                "xã Sơn Tây",
            ),
            (
                "Công ty Cổ phần Nước khoáng Sơn Kim",
                "Công ty TNHH Chế biến lâm sản Hương Sơn",
            ),
        ),
        _district(
            "VQ",
            "huyện",
            "Vũ Quang",
            6,
            (
                "thị trấn Vũ Quang",
                "xã Ân Phú",
                "xã Đức Giang",
                "xã Đức Lĩnh",
                "xã Thọ Điền",
                "xã Hương Minh",
                "xã Quang Thọ",
                "xã Đức Liên",
                "xã Đức Bồng",
                "xã Hương Điền",
            ),
            ("Công ty TNHH Nông sản Vũ Quang",),
        ),
        _district(
            "CL",
            "huyện",
            "Can Lộc",
            11,
            (
                "thị trấn Nghèn",
                "xã Thiên Lộc",
                "xã Vượng Lộc",
                "xã Thanh Lộc",
                "xã Tùng Lộc",
                "xã Phú Lộc",
                "xã Gia Hanh",
                "xã Trung Lộc",
                "xã Xuân Lộc",
                "xã Thượng Lộc",
                "xã Quang Lộc",
                "xã Đồng Lộc",
                "xã Mỹ Lộc",
                "xã Sơn Lộc",
            ),
            ("Công ty TNHH May Can Lộc", "Công ty Cổ phần Xây dựng và Thương mại Nghèn"),
        ),
        _district(
            "LH",
            "huyện",
            "Lộc Hà",
            7,
            (
                "thị trấn Lộc Hà",
                "xã Bình An",
                "xã Thịnh Lộc",
                "xã Thạch Kim",
                "xã Thạch Châu",
                "xã Hồng Lộc",
                "xã Tân Lộc",
                "xã Ích Hậu",
                "xã Phù Lưu",
                "xã Mai Phụ",
                "xã Hộ Độ",
            ),
            ("Công ty TNHH Thủy sản Lộc Hà", "Công ty Cổ phần Xây dựng Lộc Hà"),
        ),
        _district(
            "TH",
            "huyện",
            "Thạch Hà",
            11,
            (
                "thị trấn Thạch Hà",
                "xã Thạch Kênh",
                "xã Thạch Long",
                "xã Thạch Sơn",
                "xã Thạch Khê",
                "xã Thạch Đài",
                "xã Thạch Ngọc",
                "xã Thạch Xuân",
                "xã Thạch Hải",
                "xã Thạch Trị",
                "xã Việt Tiến",
                "xã Ngọc Sơn",
                "xã Nam Điền",
            ),
            ("Công ty Cổ phần Sắt Thạch Khê", "Công ty TNHH Xây dựng và Thương mại Thạch Hà"),
        ),
        _district(
            "CX",
            "huyện",
            "Cẩm Xuyên",
            11,
            (
                "thị trấn Cẩm Xuyên",
                "thị trấn Thiên Cầm",
                "xã Cẩm Bình",
                "xã Cẩm Vịnh",
                "xã Cẩm Thành",
                "xã Cẩm Quang",
                "xã Cẩm Thạch",
                "xã Cẩm Nhượng",
                "xã Cẩm Hưng",
                "xã Cẩm Duệ",
                "xã Cẩm Mỹ",
                "xã Cẩm Lộc",
            ),
            (
                "Công ty Cổ phần Du lịch Thiên Cầm",
                "Công ty TNHH May xuất khẩu Cẩm Xuyên",
                "Công ty TNHH Nuôi trồng thủy sản Cẩm Nhượng",
            ),
        ),
        _district(
            "HK",
            "huyện",
            "Hương Khê",
            11,
            (
                "thị trấn Hương Khê",
                "xã Điền Mỹ",
                "xã Hà Linh",
                "xã Hương Thủy",
                "xã Phúc Đồng",
                "xã Hương Giang",
                "xã Lộc Yên",
                "xã Hương Bình",
                "xã Hương Long",
                "xã Phú Gia",
                "xã Gia Phố",
                "xã Phúc Trạch",
                "xã Hương Trà",
            ),
            ("Công ty TNHH MTV Cao su Hương Khê – Hà Tĩnh", "Công ty TNHH May Hương Khê"),
        ),
        _district(
            "KA",
            "huyện",
            "Kỳ Anh",
            11,
            (
                "xã Kỳ Đồng",
                "xã Kỳ Bắc",
                "xã Kỳ Phong",
                "xã Kỳ Xuân",
                "xã Kỳ Khang",
                "xã Kỳ Văn",
                "xã Kỳ Tân",
                "xã Kỳ Thọ",
                "xã Kỳ Sơn",
                "xã Kỳ Lạc",
                "xã Kỳ Thượng",
                "xã Kỳ Giang",
            ),
            ("Công ty Cổ phần Khoáng sản Kỳ Anh", "Công ty TNHH Chế biến nông sản Kỳ Anh"),
        ),
    ]


_TLD = "Tổng Liên đoàn Lao động Việt Nam"
_PROVINCIAL_LEADER_BORN = (1965, 1975)
_RETIRED_BORN = (1955, 1962)  # retired leaders are older than the delegates

_INVITED: tuple[tuple[str, str, tuple[int, int], str | None], ...] = (
    (f"Phó Chủ tịch {_TLD}", _TLD, _PROVINCIAL_LEADER_BORN, None),
    (f"Phó Trưởng Ban Tổ chức {_TLD}", _TLD, _LEADER_BORN, None),
    (f"Phó Chánh Văn phòng {_TLD}", _TLD, _LEADER_BORN, None),
    (
        "Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh",
        "Tỉnh ủy Hà Tĩnh",
        _PROVINCIAL_LEADER_BORN,
        None,
    ),
    ("Phó Bí thư Tỉnh ủy, Chủ tịch UBND tỉnh", "UBND tỉnh Hà Tĩnh", _PROVINCIAL_LEADER_BORN, None),
    (
        "Ủy viên Ban Thường vụ Tỉnh ủy, Trưởng Ban Dân vận Tỉnh ủy",
        "Ban Dân vận Tỉnh ủy Hà Tĩnh",
        _PROVINCIAL_LEADER_BORN,
        None,
    ),
    (
        "Ủy viên Ban Thường vụ Tỉnh ủy, Chủ tịch Ủy ban MTTQ Việt Nam tỉnh",
        "Ủy ban MTTQ Việt Nam tỉnh Hà Tĩnh",
        _PROVINCIAL_LEADER_BORN,
        None,
    ),
    ("Phó Chủ tịch UBND tỉnh", "UBND tỉnh Hà Tĩnh", _PROVINCIAL_LEADER_BORN, None),
    ("Phó Trưởng Ban Tuyên giáo Tỉnh ủy", "Ban Tuyên giáo Tỉnh ủy Hà Tĩnh", _LEADER_BORN, None),
    ("Phó Trưởng Ban Tổ chức Tỉnh ủy", "Ban Tổ chức Tỉnh ủy Hà Tĩnh", _LEADER_BORN, None),
    ("Phó Chánh Văn phòng Tỉnh ủy", "Văn phòng Tỉnh ủy Hà Tĩnh", _LEADER_BORN, None),
    (
        "Giám đốc Sở Lao động – Thương binh và Xã hội",
        "Sở Lao động – Thương binh và Xã hội",
        _PROVINCIAL_LEADER_BORN,
        None,
    ),
    ("Giám đốc Sở Nội vụ", "Sở Nội vụ", _PROVINCIAL_LEADER_BORN, None),
    (
        "Phó Trưởng Đoàn đại biểu Quốc hội tỉnh Hà Tĩnh",
        "Đoàn đại biểu Quốc hội tỉnh Hà Tĩnh",
        _PROVINCIAL_LEADER_BORN,
        None,
    ),
    ("Bí thư Tỉnh đoàn", "Tỉnh đoàn Hà Tĩnh", (1983, 1990), None),
    (
        "Chủ tịch Hội Liên hiệp Phụ nữ tỉnh",
        "Hội Liên hiệp Phụ nữ tỉnh Hà Tĩnh",
        _PROVINCIAL_LEADER_BORN,
        "female",
    ),
    ("Chủ tịch Hội Nông dân tỉnh", "Hội Nông dân tỉnh Hà Tĩnh", _PROVINCIAL_LEADER_BORN, None),
    ("Chủ tịch Hội Cựu chiến binh tỉnh", "Hội Cựu chiến binh tỉnh Hà Tĩnh", (1962, 1966), "male"),
    (
        "Trưởng Ban Quản lý Khu kinh tế tỉnh",
        "Ban Quản lý Khu kinh tế tỉnh",
        _PROVINCIAL_LEADER_BORN,
        None,
    ),
    (
        "Bí thư Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh",
        "Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh",
        _PROVINCIAL_LEADER_BORN,
        None,
    ),
    ("Nguyên Chủ tịch LĐLĐ tỉnh", "Cán bộ hưu trí", _RETIRED_BORN, None),
    ("Nguyên Chủ tịch LĐLĐ tỉnh", "Cán bộ hưu trí", _RETIRED_BORN, None),
    ("Nguyên Phó Chủ tịch LĐLĐ tỉnh", "Cán bộ hưu trí", _RETIRED_BORN, None),
    ("Phó Chủ tịch LĐLĐ tỉnh Nghệ An", "Liên đoàn Lao động tỉnh Nghệ An", _LEADER_BORN, None),
    (
        "Phó Chủ tịch LĐLĐ tỉnh Quảng Bình",
        "Liên đoàn Lao động tỉnh Quảng Bình",
        _LEADER_BORN,
        None,
    ),
)

_GUESTS: tuple[tuple[str, str], ...] = (
    ("Phóng viên Báo Lao Động", "Báo Lao Động"),
    ("Phóng viên Tạp chí Lao động và Công đoàn", "Tạp chí Lao động và Công đoàn"),
    ("Phóng viên Báo Hà Tĩnh", "Báo Hà Tĩnh"),
    ("Biên tập viên Đài Phát thanh – Truyền hình Hà Tĩnh", "Đài Phát thanh – Truyền hình Hà Tĩnh"),
    (
        "Phó Giám đốc Ngân hàng TMCP Công Thương Việt Nam – Chi nhánh Hà Tĩnh",
        "Ngân hàng TMCP Công Thương Việt Nam – Chi nhánh Hà Tĩnh",
    ),
    (
        "Đại diện Ngân hàng Chính sách xã hội Chi nhánh tỉnh Hà Tĩnh",
        "Ngân hàng Chính sách xã hội Chi nhánh tỉnh Hà Tĩnh",
    ),
)


def _invited_and_guests() -> _Plan:
    seats = tuple(
        _Seat(p, unit, born, kind="invited", gender=g) for p, unit, born, g in _INVITED
    ) + tuple(_Seat(p, unit, (1975, 1995), kind="guest") for p, unit in _GUESTS)
    return _Plan("KM", "Đại biểu khách mời", len(seats), 0.25, seats)


def _plans() -> list[_Plan]:
    return [_executive_committee(), *_districts(), *_sectors(), _invited_and_guests()]


# --- Drawing the people --------------------------------------------------------------------


def _genders(rng: random.Random, plan: _Plan, seats: Sequence[_Seat]) -> list[str]:
    """Exactly round(size × share) women, so every seed gives the same balance."""
    women = round(plan.size * plan.women_share) - sum(s.gender == "female" for s in seats)
    free = sum(s.gender is None for s in seats)
    drawn = ["female"] * women + ["male"] * (free - women)
    rng.shuffle(drawn)
    return [s.gender or drawn.pop() for s in seats]


def _people(rng: random.Random, plan: _Plan) -> list[DemoDelegate]:
    seats = list(plan.leaders)
    seats += _grassroots_seats(rng, plan.workplaces, plan.size - len(seats))
    names: set[str] = set()
    people = []
    for seat, gender in zip(seats, _genders(rng, plan, seats), strict=True):
        name = _full_name(rng, gender)
        while name in names:  # namesakes happen, but not inside one delegation here
            name = _full_name(rng, gender)
        names.add(name)
        people.append(
            DemoDelegate(
                full_name=clean(name),
                gender=gender,
                birth_year=rng.randint(*seat.born),
                delegation_code=plan.code,
                unit=clean(seat.unit),
                position=clean(seat.position),
                kind=seat.kind,
                card_number="",
            )
        )
    return sorted(people, key=lambda d: name_sort_key(d.full_name))


def demo_congress(seed: int = 19) -> DemoCongress:
    """The demo congress; the same seed gives equal data, a different one other people."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    plans = _plans()
    delegates = [d for plan in plans for d in _people(rng, plan)]
    for number, delegate in enumerate(delegates, start=1):
        delegate.card_number = f"{number:03d}"
    return DemoCongress(
        name="Đại hội Công đoàn tỉnh Hà Tĩnh",
        number="XIX",
        term="2023–2028",
        organizing_union=_PROVINCE,
        venue=VENUE,
        starts_on=STARTS_ON,
        ends_on=ENDS_ON,
        sittings=_sittings(),
        delegations=[DemoDelegation(p.code, clean(p.name)) for p in plans],
        delegates=delegates,
    )
