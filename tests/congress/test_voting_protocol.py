"""The tally protocol (biên bản kiểm phiếu): filed in the archive when a poll's result is
there, with the numbers, the result and the fingerprint a tally committee checks and signs."""

from __future__ import annotations

import pypdfium2
import pytest
from litestar.testing import AsyncTestClient

from congress.errors import Conflict
from congress.eventlog import SYSTEM
from congress.i18n import gettext, translate
from congress.voting import protocol
from documents.tables import Document
from tests.congress.test_voting_flow import phone
from tests.congress.voting_fixtures import NAMES, make_assembly

CANDIDATES = [
    (NAMES[0], "Chủ tịch Công đoàn ngành Y tế"),
    (NAMES[1], "Phó Chủ tịch Liên đoàn Lao động tỉnh"),
    (NAMES[2], "Chủ tịch Công đoàn cơ sở Bệnh viện Đa khoa tỉnh"),
    (NAMES[3], "Trưởng ban Tổ chức"),
    (NAMES[4], "Chủ tịch Công đoàn Khu kinh tế"),
]


# A title is text on the protocol, never markup: no image, no fetch.
TITLE_WITH_MARKUP = 'Thông qua Quy chế bầu cử <img src="http://example.invalid/x.png">'


def pdf_text(pdf: bytes) -> str:
    """The PDF's text, its lines joined by single spaces, as a reader would quote it."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        pages = []
        for page in document:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
    finally:
        document.close()
    return " ".join(" ".join(pages).split())


async def archived_protocol(admin, congress: int, poll_id: int) -> tuple[dict, str]:
    """The poll's protocol as the archive serves it: its document and the PDF's text."""
    poll = (await admin.get(f"/api/congresses/{congress}/polls/{poll_id}")).json()
    document_id = poll["protocol_document_id"]
    assert document_id is not None, poll
    document = await admin.get(f"/api/congresses/{congress}/documents/{document_id}")
    assert document.status_code == 200, document.text
    pdf = await admin.get(f"/api/congresses/{congress}/documents/{document_id}/versions/1/file")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"].startswith("application/pdf")
    return document.json(), pdf_text(pdf.content)


@pytest.fixture
async def assembly(make_congress):
    return await make_assembly(await make_congress(venue="Hà Tĩnh"))


async def test_a_closed_motion_has_its_protocol_in_the_archive(admin, lender, assembly):
    congress = assembly["congress"]
    title = "Thông qua Nghị quyết Đại hội"
    created = await admin.post(
        f"/api/congresses/{congress}/polls",
        json={
            "kind": "motion",
            "title": title,
            "question": "Đại hội biểu quyết thông qua toàn văn dự thảo Nghị quyết.",
            "sitting_id": assembly["sitting"],
        },
    )
    poll_id = created.json()["id"]
    assert (await admin.post(f"/api/congresses/{congress}/polls/{poll_id}/open")).is_success
    choices = ["agree"] * 4 + ["disagree", "abstain"]
    for delegate, choice in zip(assembly["officials"], choices, strict=True):
        async with AsyncTestClient(lender.next_app()) as client:
            csrf = await phone(client, assembly["tokens"][delegate])
            ballot = await client.post(
                f"/delegate/polls/{poll_id}/ballot",
                json={"choices": [choice]},
                headers={"x-csrf-token": csrf},
            )
            assert ballot.status_code == 200, ballot.text
    closed = await admin.post(f"/api/congresses/{congress}/polls/{poll_id}/close")
    assert closed.json()["has_result"] is True

    document, text = await archived_protocol(admin, congress, poll_id)
    assert title in document["title"]
    assert (document["category"], document["access"]) == ("tally_protocol", "organizers")
    assert document["sitting_id"] == assembly["sitting"]

    assert "BIÊN BẢN KIỂM PHIẾU" in text
    assert title in text
    assert "Đại hội biểu quyết thông qua toàn văn dự thảo Nghị quyết." in text
    assert "Phiên chính thức" in text
    # Six officials convened and present, six e-ballots, all valid; 4 of 6 is 66,67%.
    for label in ("Official delegates convened", "Delegates entitled to vote", "Valid ballots"):
        assert f"{translate(label)} 6" in text
    assert f"{translate('Invalid ballots')} 0" in text
    assert f"{translate('Agree')} 4 66,67%" in text
    assert f"{translate('Disagree')} 1 16,67%" in text
    assert f"{translate('No opinion')} 1 16,67%" in text
    conclusion = gettext(
        "Conclusion: the motion is passed, with %(votes)d of %(base)d agreeing (%(share)s)."
    )
    assert conclusion % {"votes": 4, "base": 6, "share": "66,67%"} in text
    export = (await admin.get(f"/api/congresses/{congress}/polls/{poll_id}/export")).json()
    assert export["fingerprint"] in text
    assert export["head"] in text.replace(" ", "")
    assert translate("HEAD OF THE TALLY COMMITTEE") in text


async def test_an_election_with_a_tie_names_the_tied_and_the_runoff(admin, as_role, make_congress):
    assembly = await make_assembly(await make_congress(), officials=10, invited=0)
    congress = assembly["congress"]
    title = "Bầu Ban Chấp hành Công đoàn tỉnh khóa XIX"
    created = await admin.post(
        f"/api/congresses/{congress}/polls",
        json={
            "kind": "election",
            "title": title,
            "method": "paper",
            "seats": 3,
            "sitting_id": assembly["sitting"],
            "candidates": [{"name": name, "note": note} for name, note in CANDIDATES],
        },
    )
    poll_id = created.json()["id"]
    await admin.post(f"/api/congresses/{congress}/polls/{poll_id}/open")
    closed = await admin.post(f"/api/congresses/{congress}/polls/{poll_id}/close")
    assert closed.json()["has_result"] is False
    assert (await admin.get(f"/api/congresses/{congress}/polls/{poll_id}")).json()[
        "protocol_document_id"
    ] is None

    # Ten ballots issued, nine collected, one of them invalid; the base is the nine collected,
    # so five votes are more than half. The 3rd and 4th have five each for the last seat.
    counts = {
        "issued": 10,
        "collected": 9,
        "valid": 8,
        "invalid": 1,
        "votes": {"c1": 7, "c2": 6, "c3": 5, "c4": 5, "c5": 1},
    }
    tally = await as_role("tally")
    first = await tally.post(
        f"/api/congresses/{congress}/polls/{poll_id}/paper-counts/1", json=counts
    )
    assert first.json()["agreed"] is None
    second = await admin.post(
        f"/api/congresses/{congress}/polls/{poll_id}/paper-counts/2", json=counts
    )
    assert second.json()["agreed"] is True

    document, text = await archived_protocol(admin, congress, poll_id)
    assert title in document["title"]
    assert "BIÊN BẢN KIỂM PHIẾU" in text
    for label, number in [("Ballots issued", 10), ("Ballots collected", 9), ("Invalid ballots", 1)]:
        assert f"{translate(label)} {number}" in text
    elected, not_elected, tied = translate("Elected"), translate("Not elected"), translate("Tied")
    assert f"{CANDIDATES[0][0]} {CANDIDATES[0][1]} 7 77,78% {elected}" in text
    assert f"{CANDIDATES[1][0]} {CANDIDATES[1][1]} 6 66,67% {elected}" in text
    assert f"{CANDIDATES[2][0]} {CANDIDATES[2][1]} 5 55,56% {tied}" in text
    assert f"{CANDIDATES[3][0]} {CANDIDATES[3][1]} 5 55,56% {tied}" in text
    assert f"{CANDIDATES[4][0]} {CANDIDATES[4][1]} 1 11,11% {not_elected}" in text
    assert f"{CANDIDATES[2][0]} (5 {translate('votes')}); {CANDIDATES[3][0]} (5" in text
    assert f"{title} – bầu bổ sung" in text
    # Both members' entries, side by side, as they typed them.
    assert "Test tally Test admin" in text
    export = (await admin.get(f"/api/congresses/{congress}/polls/{poll_id}/export")).json()
    assert export["fingerprint"] in text


async def test_filing_again_keeps_the_one_protocol(admin, make_congress):
    assembly = await make_assembly(await make_congress())
    congress = assembly["congress"]
    created = await admin.post(
        f"/api/congresses/{congress}/polls",
        json={"kind": "motion", "title": TITLE_WITH_MARKUP, "method": "show_of_cards"},
    )
    poll_id = created.json()["id"]
    await admin.post(f"/api/congresses/{congress}/polls/{poll_id}/open")
    with pytest.raises(Conflict) as refused:
        await protocol.file_tally_protocol(congress, poll_id, SYSTEM)
    assert refused.value.code == "result_pending"
    assert await protocol.file_if_ready(congress, poll_id, SYSTEM) is None

    await admin.post(f"/api/congresses/{congress}/polls/{poll_id}/close")
    cards = await admin.post(
        f"/api/congresses/{congress}/polls/{poll_id}/show-of-cards", json={"unanimous": True}
    )
    assert cards.json()["has_result"] is True
    _, text = await archived_protocol(admin, congress, poll_id)
    assert TITLE_WITH_MARKUP in text
    assert f"{translate('Delegates who raised a card')} 6" in text
    assert f"{translate('Agree')} 6 100,00%" in text

    first = (await admin.get(f"/api/congresses/{congress}/polls/{poll_id}")).json()
    again = await protocol.file_tally_protocol(congress, poll_id, SYSTEM)
    assert again == first["protocol_document_id"]
    assert await protocol.file_if_ready(congress, poll_id, SYSTEM) == again
    filed = await Document.count().where(
        (Document.congress == congress) & (Document.category == "tally_protocol")
    )
    assert filed == 1


def test_percentages_are_rounded_half_up_without_floats():
    assert protocol.percent(2, 3, "vi") == "66,67%"
    assert protocol.percent(1, 3, "en") == "33.33%"
    assert protocol.percent(1, 8, "vi") == "12,50%"
    assert protocol.percent(1, 200_000, "vi") == "0,00%"  # 0.0005 % rounds down at 0.005
    assert protocol.percent(1, 20_000, "vi") == "0,01%"  # exactly 0.005 % rounds up
    assert protocol.percent(0, 0, "vi") == "—"
