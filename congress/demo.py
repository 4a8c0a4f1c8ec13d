"""The demo congress in the database, and demo accounts for each role.

The delegates go in through the real spreadsheet import (a CSV written from the demo
data), so the demo exercises the same path an organizer uses.
"""

from __future__ import annotations

import csv
import io
import secrets
from zoneinfo import ZoneInfo

import msgspec

from congress import accounts, services
from congress.accounts import Role
from congress.delegates import services as delegate_services
from congress.delegates.schemas import DelegationIn
from congress.demo_data import DemoCongress, demo_congress
from congress.eventlog import SYSTEM
from congress.schemas import AgendaItemIn, CongressIn, SittingIn
from congress.tables import Account, Congress

DEMO_ACCOUNTS = {
    Role.ADMIN: ("demo.admin", "Ban Tổ chức (quản trị)"),
    Role.SECRETARIAT: ("demo.secretariat", "Đoàn Thư ký"),
    Role.PRESIDIUM: ("demo.presidium", "Đoàn Chủ tịch"),
    Role.TALLY: ("demo.tally", "Ban Kiểm phiếu"),
    Role.CHECKIN: ("demo.checkin", "Tổ đón tiếp đại biểu"),
}

SHEET_HEADER = [
    "STT",
    "Họ và tên",
    "Giới tính",
    "Năm sinh",
    "Đoàn đại biểu",
    "Đơn vị",
    "Chức vụ",
    "Loại đại biểu",
    "Số thẻ",
]
KIND_WORDS = {"official": "Chính thức", "invited": "Khách mời", "guest": "Khách"}
GENDER_WORDS = {"male": "Nam", "female": "Nữ"}


def demo_sheet(data: DemoCongress) -> bytes:
    """The demo delegates as the CSV an organizer would export from Excel."""
    names = {d.code: d.name for d in data.delegations}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SHEET_HEADER)
    for n, d in enumerate(data.delegates, start=1):
        writer.writerow(
            [
                n,
                d.full_name,
                GENDER_WORDS[d.gender],
                d.birth_year,
                names[d.delegation_code],
                d.unit,
                d.position,
                KIND_WORDS[d.kind],
                d.card_number,
            ]
        )
    return out.getvalue().encode("utf-8-sig")


async def find_demo_congress(data: DemoCongress) -> int | None:
    row = (
        await Congress.select(Congress.id)
        .where((Congress.name == data.name) & (Congress.number == data.number))
        .first()
    )
    return int(row["id"]) if row else None


async def load_demo() -> int:
    """The demo congress's id; creates it on first use, leaves it alone afterwards."""
    data = demo_congress()
    existing = await find_demo_congress(data)
    if existing is not None:
        return existing
    congress_id = await services.create_congress(
        CongressIn(
            name=data.name,
            number=data.number,
            term=data.term,
            organizing_union=data.organizing_union,
            venue=data.venue,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
        ),
        SYSTEM,
    )
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    for sitting in data.sittings:
        sitting_id = await services.add_sitting(
            congress_id,
            SittingIn(
                title=sitting.title,
                kind=sitting.kind,  # type: ignore[arg-type]
                starts_at=sitting.starts_at.replace(tzinfo=zone),
                location=sitting.location,
            ),
            SYSTEM,
        )
        for item in sitting.agenda:
            await services.add_agenda_item(
                congress_id, sitting_id, AgendaItemIn(**msgspec.structs.asdict(item)), SYSTEM
            )
    for delegation in data.delegations:
        await delegate_services.add_delegation(
            congress_id, DelegationIn(code=delegation.code, name=delegation.name), SYSTEM
        )
    token = await delegate_services.stage_import(
        congress_id, "danh-sach-dai-bieu.csv", demo_sheet(data), SYSTEM
    )
    await delegate_services.apply_import(congress_id, token, False, SYSTEM)
    await _demo_polls(congress_id)
    return congress_id


async def _demo_polls(congress_id: int) -> None:
    """Two drafts the presidium can open once the delegates are checked in: the resolution,
    and the election of the executive committee among twelve official delegates."""
    from congress.tables import Delegate
    from congress.voting.schemas import CandidateIn, PollIn
    from congress.voting.services import create_poll

    await create_poll(
        congress_id,
        PollIn(
            kind="motion",
            title="Thông qua Nghị quyết Đại hội",
            question="Đại hội biểu quyết thông qua toàn văn Nghị quyết Đại hội.",
        ),
        SYSTEM,
    )
    candidates = await (
        Delegate.select(Delegate.id, Delegate.full_name, Delegate.position, Delegate.unit)
        .where((Delegate.congress == congress_id) & (Delegate.kind == "official"))
        .order_by(Delegate.id)
        .limit(12)
    )
    await create_poll(
        congress_id,
        PollIn(
            kind="election",
            title="Bầu Ban Chấp hành khóa XIX",
            question="Bầu 9 người vào Ban Chấp hành Công đoàn tỉnh khóa XIX.",
            seats=9,
            candidates=[
                CandidateIn(
                    name=c["full_name"],
                    note=", ".join(p for p in (c["position"], c["unit"]) if p)[:300],
                    delegate_id=c["id"],
                )
                for c in candidates
            ],
        ),
        SYSTEM,
    )


async def reset_demo_accounts() -> list[tuple[str, str, Role]]:
    """One account per role with a fresh random password, printed at each start."""
    made = []
    for role, (username, full_name) in DEMO_ACCOUNTS.items():
        password = secrets.token_urlsafe(9)
        row = await Account.select(Account.id).where(Account.username == username).first()
        if row is None:
            await accounts.create_account(username, full_name, password, [role.value])
        else:
            await accounts.set_password(row["id"], password, SYSTEM)
        made.append((username, password, role))
    return made
