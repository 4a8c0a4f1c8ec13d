"""Every PDF the system makes prints a name or title made of HTML, CSS or url() as text and
fetches nothing: a local listener stands where each of them points and must hear nothing."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pypdfium2
import pytest

from checkin.cards import Card, CardCongress, render_cards
from congress.delegates import services as delegate_services
from congress.delegates.schemas import DelegateIn, DelegationIn
from congress.eventlog import SYSTEM
from congress.schemas import AgendaItemIn, SittingIn
from congress.services import add_agenda_item, add_sitting
from congress.voting import protocol
from congress.voting import services as voting
from congress.voting.schemas import BallotIn, CandidateIn, PollIn
from documents import minutes
from documents import services as documents
from documents.schemas import DocumentIn
from documents.tables import Document
from tests.conftest import Session
from tests.congress.voting_fixtures import check_in
from tests.documents.conftest import pdf_bytes

ORGANIZER = documents.Viewer("organizer", can_see_confidential=True)


class Listener(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that records every connection made to it."""

    def __init__(self) -> None:
        self.heard: list[str] = []
        super().__init__(("127.0.0.1", 0), _Recorder)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.heard.append(f"a connection from {client_address}")
        return True


class _Recorder(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        assert isinstance(self.server, Listener)
        self.server.heard.append(f"{self.command} {self.path}")
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()

    do_GET = do_POST = do_HEAD = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def smuggled(listener: Listener) -> list[str]:
    """Markup that would fetch from the listener if it were read as markup."""
    at = f"http://127.0.0.1:{listener.server_address[1]}"
    return [
        f'<img src="{at}/a">',
        f'<link rel=stylesheet href="{at}/b">',
        f"<style>@import url({at}/c)</style>",
        f"url({at}/d)",
        f'<iframe src="{at}/e"></iframe>',
    ]


def pdf_text(pdf: bytes) -> str:
    """The PDF's text without any white space, so that a line break cannot split a match."""
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
    return "".join("".join(pages).split())


def assert_printed_as_text(pdf: bytes, names: list[str], *, any_case: bool = False) -> None:
    text = pdf_text(pdf).casefold() if any_case else pdf_text(pdf)
    wanted = [name.casefold() if any_case else name for name in names]
    missing = [name for name in wanted if "".join(name.split()) not in text]
    assert not missing, f"not printed as text: {missing}"


@pytest.fixture
async def hall(make_congress: Any, listener: Listener) -> dict[str, Any]:
    """A congress, sitting, delegation, delegates, agenda and papers, each named with markup."""
    marks = smuggled(listener)
    congress = await make_congress(name=f"Đại hội {marks[0]}", number="XIX")
    sitting = await add_sitting(
        congress, SittingIn(title=f"Phiên {marks[1]}", kind="plenary"), SYSTEM
    )
    delegation = await delegate_services.add_delegation(
        congress, DelegationIn(code="XSS", name=f"Đoàn {marks[2]}"), SYSTEM
    )
    delegates = [
        await delegate_services.add_delegate(
            congress,
            DelegateIn(
                full_name=f"Đại biểu {n} {mark}",
                kind="official",
                delegation_id=delegation,
                position=f"Chức vụ {mark}",
                card_number=f"{n:03d}",
            ),
            SYSTEM,
        )
        for n, mark in enumerate(marks, start=1)
    ]
    await check_in(congress, sitting, delegates)
    for n, mark in enumerate(marks, start=1):
        await add_agenda_item(
            congress, sitting, AgendaItemIn(title=f"Mục {n} {mark}", presenter=mark), SYSTEM
        )
        prepared = await documents.prepare_upload(io.BytesIO(pdf_bytes("Văn kiện")), f"{n}.pdf")
        await documents.upload_document(
            congress,
            DocumentIn(title=f"Văn kiện {n} {mark}", access="delegates", sitting_id=sitting),
            prepared,
            SYSTEM,
            ORGANIZER,
        )
    return {"congress": congress, "sitting": sitting, "delegates": delegates, "marks": marks}


def test_a_card_prints_markup_as_text(listener: Listener) -> None:
    marks = smuggled(listener)
    congress = CardCongress(
        title=f"Đại hội {marks[0]}",
        number=marks[1],
        term=marks[2],
        organizing_union=f"Liên đoàn {marks[3]}",
        dates=marks[4],
        logo=None,
    )
    cards = [
        Card(
            full_name=mark,
            delegation=f"Đoàn {mark}",
            position=f"Chức vụ {mark}",
            kind=("official", "invited", "guest")[n % 3],
            card_number=f"{n:03d}",
            photo=None,
            url=f"HTTP://192.168.1.10:8000/D/{n:02d}ABCDEFGHIJKLMNOPQRSTUVWX",
        )
        for n, mark in enumerate(marks)
    ]
    for layout in ("cr80", "a6", "a4"):
        pdf = render_cards(congress, cards, layout, workers=1)
        assert_printed_as_text(pdf, marks)
        assert_printed_as_text(pdf, [f"Đoàn {mark}" for mark in marks])
        assert_printed_as_text(pdf, [f"Chức vụ {mark}" for mark in marks])
        # The card prints the congress's title in capitals.
        assert_printed_as_text(pdf, [congress.title, congress.organizing_union], any_case=True)
    assert listener.heard == []


async def archived_pdf(admin: Session, congress: int, document_id: int) -> bytes:
    response = await admin.get(
        f"/api/congresses/{congress}/documents/{document_id}/versions/1/file"
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/pdf")
    return bytes(response.content)


async def test_the_attendance_report_prints_markup_as_text(
    admin: Session, hall: dict[str, Any], listener: Listener
) -> None:
    congress, sitting = hall["congress"], hall["sitting"]
    filed = await admin.submit(
        f"/console/congresses/{congress}/attendance/report?sitting={sitting}",
        follow_redirects=False,
    )
    assert filed.status_code in (302, 303), filed.text
    document = (
        await Document.select(Document.id)
        .where((Document.congress == congress) & (Document.category == "attendance_report"))
        .first()
    )
    assert document is not None
    pdf = await archived_pdf(admin, congress, document["id"])
    marks = hall["marks"]
    assert_printed_as_text(pdf, [f"Đại hội {marks[0]}", f"Phiên {marks[1]}", f"Đoàn {marks[2]}"])
    assert_printed_as_text(pdf, [f"Đại biểu {n} {mark}" for n, mark in enumerate(marks, 1)])
    assert listener.heard == []


async def test_the_minutes_print_markup_as_text(hall: dict[str, Any], listener: Listener) -> None:
    congress, sitting, marks = hall["congress"], hall["sitting"], hall["marks"]
    body = await minutes.assemble(congress, sitting) + "\n".join(marks) + "\n"
    pdf = await minutes.render_minutes(congress, sitting, body)
    assert_printed_as_text(pdf, [f"Mục {n} {mark}" for n, mark in enumerate(marks, 1)])
    assert_printed_as_text(pdf, [f"Văn kiện {n} {mark}" for n, mark in enumerate(marks, 1)])
    assert_printed_as_text(pdf, [f"Đại hội {marks[0]}", f"Phiên {marks[1]}", *marks])
    assert listener.heard == []


async def test_the_tally_protocol_prints_markup_as_text(
    admin: Session, hall: dict[str, Any], listener: Listener
) -> None:
    congress, sitting, marks = hall["congress"], hall["sitting"], hall["marks"]
    poll = await voting.create_poll(
        congress,
        PollIn(
            kind="election",
            title=f"Bầu {marks[3]}",
            question=f"Câu hỏi {marks[4]}",
            seats=2,
            candidates=[CandidateIn(name=f"Ứng viên {mark}", note=mark) for mark in marks],
            sitting_id=sitting,
        ),
        SYSTEM,
    )
    await voting.open_poll(congress, poll, SYSTEM)
    for delegate in hall["delegates"]:
        await voting.cast_ballot(congress, delegate, poll, BallotIn(choices=["c1", "c2"]))
    await voting.close_poll(congress, poll, SYSTEM)
    document_id = await protocol.file_tally_protocol(congress, poll, SYSTEM)
    pdf = await archived_pdf(admin, congress, document_id)
    assert_printed_as_text(
        pdf, [f"Đại hội {marks[0]}", f"Phiên {marks[1]}", f"Bầu {marks[3]}", f"Câu hỏi {marks[4]}"]
    )
    assert_printed_as_text(pdf, [f"Ứng viên {mark}" for mark in marks])
    assert listener.heard == []


def test_the_listener_would_hear_a_fetch(listener: Listener) -> None:
    """The control: the same markup read as markup does reach the listener."""
    from weasyprint import HTML

    HTML(string=smuggled(listener)[0]).write_pdf()
    assert listener.heard


async def test_a_dead_pdf_worker_is_replaced_and_the_paper_still_made() -> None:
    """The worker that lays out official papers can die (killed, out of memory): the paper
    asked for at that moment is made all the same, and the next one gets a new worker."""
    from documents import pdf

    page = "<h1>Biên bản kiểm phiếu</h1>"
    first = await pdf.write_pdf_apart(page)
    pool = pdf._process_pool()
    for process in list(pool._processes.values()):  # the one worker
        os.kill(process.pid, signal.SIGKILL)
    await asyncio.sleep(0.2)
    second = await pdf.write_pdf_apart(page)
    third = await pdf.write_pdf_apart(page)
    assert [paper[:4] for paper in (first, second, third)] == [b"%PDF"] * 3
    assert pdf._process_pool() is not pool
