"""A congress in session for the screens: delegates checked in, an agenda item, released and
confidential papers, a closed motion and an open election; and registered screens."""

from __future__ import annotations

import io
from typing import Any

from congress.eventlog import SYSTEM
from congress.schemas import AgendaItemIn
from congress.services import add_agenda_item
from congress.voting import services as voting
from congress.voting.schemas import BallotIn, CandidateIn, PollIn
from documents import services as documents
from documents.schemas import DocumentIn
from livestream.screens import services
from tests.congress.voting_fixtures import make_assembly
from tests.documents.conftest import pdf_bytes
from tests.documents.samples import image

ORGANIZER = documents.Viewer("organizer", can_see_confidential=True)
CANDIDATES = [
    CandidateIn(name="Nguyễn Văn An", note="Chủ tịch CĐ ngành Giáo dục"),
    CandidateIn(name="Trần Thị Bình", note="Phó Chủ tịch LĐLĐ huyện Kỳ Anh"),
    CandidateIn(name="Lê Văn Cường", note="Chủ tịch CĐ Khu kinh tế"),
]


async def paper(congress_id: int, title: str, access: Any, content: bytes, name: str) -> int:
    prepared = await documents.prepare_upload(io.BytesIO(content), name)
    document_id = await documents.upload_document(
        congress_id, DocumentIn(title=title, access=access), prepared, SYSTEM, ORGANIZER
    )
    if access in {"public", "delegates"}:
        await documents.release_document(congress_id, document_id, SYSTEM, ORGANIZER)
    return document_id


async def make_hall(congress_id: int) -> dict[str, Any]:
    hall = await make_assembly(congress_id, officials=6, invited=1, present=5)
    hall["item"] = await add_agenda_item(
        congress_id,
        hall["sitting"],
        AgendaItemIn(
            title="Thảo luận Báo cáo chính trị trình Đại hội", presenter="Đồng chí Chủ tịch"
        ),
        SYSTEM,
    )
    report = pdf_bytes("Báo cáo chính trị – trang một", "Trang hai: Đoàn kết, đổi mới")
    hall["report"] = await paper(congress_id, "Báo cáo chính trị", "public", report, "bc.pdf")
    hall["photo"] = await paper(
        congress_id, "Hoạt động công đoàn", "delegates", image("png", (64, 36)), "anh.png"
    )
    hall["secret"] = await paper(
        congress_id, "Hồ sơ nhân sự", "confidential", pdf_bytes("Mật"), "mat.pdf"
    )
    hall["draft"] = await paper(
        congress_id, "Dự thảo chưa phát hành", "organizers", pdf_bytes("Nháp"), "nhap.pdf"
    )
    motion = await voting.create_poll(
        congress_id,
        PollIn(kind="motion", title="Thông qua chương trình Đại hội", sitting_id=hall["sitting"]),
        SYSTEM,
    )
    await voting.open_poll(congress_id, motion, SYSTEM)
    for delegate, choice in zip(hall["officials"][:5], "aaaad", strict=True):
        key = "agree" if choice == "a" else "disagree"
        await voting.cast_ballot(congress_id, delegate, motion, BallotIn(choices=[key]))
    await voting.close_poll(congress_id, motion, SYSTEM)
    hall["motion"] = motion
    election = await voting.create_poll(
        congress_id,
        PollIn(
            kind="election",
            title="Bầu Ban Chấp hành khóa XIX",
            question="Bầu 2 trong 3 ứng cử viên",
            seats=2,
            candidates=CANDIDATES,
            sitting_id=hall["sitting"],
        ),
        SYSTEM,
    )
    hall["election"] = election
    return hall


async def open_election(hall: dict[str, Any], votes: int = 3) -> None:
    congress_id, election = hall["congress"], hall["election"]
    await voting.open_poll(congress_id, election, SYSTEM)
    for delegate in hall["officials"][:votes]:
        await voting.cast_ballot(congress_id, delegate, election, BallotIn(choices=["c1", "c2"]))
    await voting.checkpoint_poll(congress_id, election)


async def close_election(hall: dict[str, Any], more: int = 2) -> None:
    congress_id, election = hall["congress"], hall["election"]
    for delegate in hall["officials"][3 : 3 + more]:
        await voting.cast_ballot(congress_id, delegate, election, BallotIn(choices=["c1", "c3"]))
    await voting.close_poll(congress_id, election, SYSTEM)


async def make_screen(congress_id: int, name: str = "Màn hình LED hội trường") -> tuple[int, str]:
    return await services.register_screen(congress_id, name, SYSTEM)
