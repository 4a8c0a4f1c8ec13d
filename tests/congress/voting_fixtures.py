"""Shared set-up for the poll tests: a congress in session with delegates checked in."""

from __future__ import annotations

import datetime
from typing import Any

from checkin import credentials
from checkin.tables import Attendance
from congress.delegates import services as delegate_services
from congress.delegates.schemas import DelegateIn, DelegationIn
from congress.eventlog import SYSTEM
from congress.schemas import SittingIn
from congress.services import add_sitting

NAMES = (
    "Nguyễn Thị Hạnh",
    "Trần Văn Đức",
    "Lê Thị Thu Hà",
    "Phạm Quốc Bảo",
    "Hoàng Minh Tuấn",
    "Võ Thị Ánh",
    "Đặng Văn Hùng",
    "Bùi Thị Lan",
    "Đỗ Mạnh Cường",
    "Ngô Thị Yến",
)


async def make_assembly(
    congress_id: int, officials: int = 6, invited: int = 1, present: int | None = None
) -> dict[str, Any]:
    """A sitting, `officials` official and `invited` invited delegates with cards; the first
    `present` officials (all by default) and every invited delegate checked in."""
    sitting = await add_sitting(
        congress_id, SittingIn(title="Phiên chính thức", kind="plenary"), SYSTEM
    )
    delegation = await delegate_services.add_delegation(
        congress_id, DelegationIn(code="YT", name="Công đoàn ngành Y tế"), SYSTEM
    )
    people: list[int] = []
    for n in range(officials + invited):
        kind = "official" if n < officials else "invited"
        name = NAMES[n % len(NAMES)] + ("" if n < len(NAMES) else f" {n}")
        people.append(
            await delegate_services.add_delegate(
                congress_id,
                DelegateIn(
                    full_name=name, kind=kind, delegation_id=delegation, card_number=f"{n + 1:04d}"
                ),
                SYSTEM,
            )
        )
    tokens = await credentials.issue_cards(congress_id, people, SYSTEM, replace=False)
    officials_ids = people[:officials]
    here = officials_ids[: officials if present is None else present] + people[officials:]
    await check_in(congress_id, sitting, here)
    return {
        "congress": congress_id,
        "sitting": sitting,
        "officials": officials_ids,
        "invited": people[officials:],
        "tokens": tokens,
    }


async def check_in(congress_id: int, sitting: int, delegate_ids: list[int]) -> None:
    now = datetime.datetime.now(datetime.UTC)
    if delegate_ids:
        await Attendance.insert(
            *(
                Attendance(congress=congress_id, sitting=sitting, delegate=d, checked_in_at=now)
                for d in delegate_ids
            )
        )
