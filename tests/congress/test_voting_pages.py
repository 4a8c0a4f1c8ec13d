"""The polls in the organizers' console: drafting through the form, opening, closing and
announcing, the tally committee's double entry, the show of cards, who sees which buttons."""

from __future__ import annotations

import asyncio
import re

import pytest

from congress.auth import LANGUAGE_COOKIE
from congress.eventlog import SYSTEM
from congress.voting import services
from congress.voting.schemas import BallotIn
from congress.voting.tables import Poll
from tests.conftest import Session
from tests.congress.test_console_pages import table_row, visible
from tests.congress.voting_fixtures import make_assembly

CANDIDATES = """Nguyễn Văn An | Chủ tịch CĐ ngành Giáo dục
Trần Thị Bình | Phó Chủ tịch LĐLĐ tỉnh

Lê Văn Cường
"""


@pytest.fixture
async def assembly(make_congress):
    return await make_assembly(await make_congress())


def in_english(session: Session) -> Session:
    # The assertions read the English msgids: they hold whatever the catalog says.
    session.client.cookies.set(LANGUAGE_COOKIE, "en")
    return session


def polls_of(assembly) -> str:
    return f"/console/congresses/{assembly['congress']}/polls"


def poll_id_of(response) -> int:
    match = re.search(r"/polls/(\d+)$", response.url.path)
    assert match, response.url
    return int(match.group(1))


async def create(session: Session, assembly, **fields) -> int:
    form = {
        "kind": "motion",
        "method": "phone",
        "title": "Thông qua Nghị quyết Đại hội",
        "sitting_id": str(assembly["sitting"]),
        "majority_base": "collected",
        "voters": "official_present",
        "require_quorum": "true",
        **fields,
    }
    response = await session.submit(polls_of(assembly), form)
    assert response.status_code == 200, visible(response.text)
    assert "Created." in visible(response.text)
    return poll_id_of(response)


async def act(session: Session, assembly, poll_id: int, action: str, data=None):
    response = await session.submit(f"{polls_of(assembly)}/{poll_id}/{action}", data or {})
    assert response.status_code == 200, visible(response.text)
    return visible(response.text)


async def test_a_motion_and_an_election_drafted_through_the_form(admin, assembly):
    in_english(admin)
    motion = await create(admin, assembly)
    election = await create(
        admin,
        assembly,
        kind="election",
        method="paper",
        title="Bầu Ban Chấp hành khóa XIX",
        seats="2",
        candidates=CANDIDATES,
    )
    page = await admin.get(f"{polls_of(assembly)}/{election}")
    text = visible(page.text)
    assert "Bầu Ban Chấp hành khóa XIX" in text
    assert "Nguyễn Văn An · Chủ tịch CĐ ngành Giáo dục" in text
    assert "Lê Văn Cường" in text
    options = await services.options_of(election)
    assert [(o["label"], o["note"]) for o in options] == [
        ("Nguyễn Văn An", "Chủ tịch CĐ ngành Giáo dục"),
        ("Trần Thị Bình", "Phó Chủ tịch LĐLĐ tỉnh"),
        ("Lê Văn Cường", ""),
    ]
    listing = (await admin.get(polls_of(assembly))).text
    assert table_row(listing, "Thông qua Nghị quyết Đại hội", 0)[1:4] == [
        "Motion",
        "By phone",
        "Draft",
    ]
    assert table_row(listing, "Bầu Ban Chấp hành khóa XIX", 0)[1:4] == [
        "Election · 2 seats",
        "Paper ballots",
        "Draft",
    ]
    assert f"/polls/{motion}" in listing


async def test_a_refused_poll_keeps_what_was_typed(admin, assembly):
    in_english(admin)
    response = await admin.submit(
        polls_of(assembly),
        {
            "kind": "election",
            "method": "paper",
            "title": "Bầu Ủy ban Kiểm tra",
            "seats": "5",
            "candidates": CANDIDATES,
            "majority_base": "valid",
            "voters": "official_present",
        },
    )
    assert response.status_code == 422
    assert "There are more seats than candidates." in visible(response.text)
    assert 'value="Bầu Ủy ban Kiểm tra"' in response.text
    assert "Trần Thị Bình | Phó Chủ tịch LĐLĐ tỉnh" in response.text
    assert 'value="valid" selected' in response.text
    assert 'name="require_quorum" value="true" >' in response.text  # left unticked
    assert not await Poll.exists().where(Poll.title == "Bầu Ủy ban Kiểm tra")


async def test_open_close_and_announce_through_the_forms(admin, assembly):
    in_english(admin)
    poll_id = await create(admin, assembly)
    assert "Voting has begun." in await act(admin, assembly, poll_id, "open")
    for delegate, choice in zip(
        assembly["officials"], ["agree", "agree", "disagree"], strict=False
    ):
        await services.cast_ballot(
            assembly["congress"], delegate, poll_id, BallotIn(choices=[choice])
        )
    await services.checkpoint_open_polls()
    page = visible((await admin.get(f"{polls_of(assembly)}/{poll_id}")).text)
    assert "3 / 6 have voted" in page

    text = await act(admin, assembly, poll_id, "close")
    assert "Voting has ended." in text
    assert "Passed" in text
    assert (
        "Majority needed: more than half of the ballots collected (3), that is at least 2 votes."
        in text
    )
    assert "3 receipts" in text
    poll = await services.get_poll(assembly["congress"], poll_id)
    from congress.voting import chain

    assert chain.fingerprint(poll["chain_head"]) in text
    html = (await admin.get(f"{polls_of(assembly)}/{poll_id}")).text
    assert table_row(html, "Agree", 0)[1:] == ["2", "66.67%"]
    assert f"/api/congresses/{assembly['congress']}/polls/{poll_id}/export" in html
    assert poll["protocol_document"] is not None
    assert f"/documents/{poll['protocol_document']}" in html
    receipts = await admin.get(f"{polls_of(assembly)}/{poll_id}/receipts")
    assert all(r in receipts.text for r in await services.receipts_of(poll_id))

    assert "The result is announced." in await act(admin, assembly, poll_id, "publish")
    listing = (await admin.get(polls_of(assembly))).text
    assert table_row(listing, "Thông qua Nghị quyết Đại hội", 0)[3:] == ["Announced", "3 / 6"]


async def test_a_draft_is_removed_and_an_open_poll_is_not(admin, assembly):
    in_english(admin)
    poll_id = await create(admin, assembly)
    await act(admin, assembly, poll_id, "open")
    refused = await admin.submit(f"{polls_of(assembly)}/{poll_id}/remove")
    assert refused.status_code == 409
    assert "Only a draft poll can be removed." in visible(refused.text)
    draft = await create(admin, assembly, title="Dự thảo bỏ đi")
    removed = await admin.submit(f"{polls_of(assembly)}/{draft}/remove")
    assert removed.url.path == polls_of(assembly)
    assert "Dự thảo bỏ đi" not in removed.text


async def test_the_quorum_refusal_is_shown_on_the_page(admin, make_congress):
    assembly = await make_assembly(await make_congress(), officials=6, present=2)
    in_english(admin)
    poll_id = await create(admin, assembly)
    response = await admin.submit(f"{polls_of(assembly)}/{poll_id}/open")
    assert response.status_code == 409
    assert 'data-code="quorum_not_reached"' in response.text


async def paper_election(admin: Session, assembly) -> int:
    poll_id = await create(
        admin,
        assembly,
        kind="election",
        method="paper",
        title="Bầu Ban Chấp hành",
        seats="2",
        candidates=CANDIDATES,
    )
    await act(admin, assembly, poll_id, "open")
    return poll_id


def counts(issued=6, collected=6, valid=5, invalid=1, votes=(4, 3, 2)) -> dict[str, str]:
    form = {
        "issued": str(issued),
        "collected": str(collected),
        "valid": str(valid),
        "invalid": str(invalid),
    }
    form.update({f"vote_c{n}": str(v) for n, v in enumerate(votes, start=1)})
    return form


async def test_the_paper_double_entry_differing_then_agreeing(admin, as_role, assembly):
    in_english(admin)
    tally = in_english(await as_role("tally"))
    poll_id = await paper_election(admin, assembly)
    handed = await tally.submit(
        f"{polls_of(assembly)}/{poll_id}/paper-ballots", {"card_number": "0001"}
    )
    assert "Paper ballot handed out: card 0001, Nguyễn Thị Hạnh." in visible(handed.text)
    await act(admin, assembly, poll_id, "close")

    text = await act(tally, assembly, poll_id, "paper-counts", {"entry": "1", **counts()})
    assert "Your entry is saved. Waiting for the other entry." in text
    assert "Waiting for the other entry." in text

    # The second member does not see the first one's numbers, in the form or anywhere.
    page = (await admin.get(f"{polls_of(assembly)}/{poll_id}")).text
    assert 'name="entry" value="2" checked' in page
    assert 'name="vote_c1" value=""' in page

    differ = counts(valid=4, invalid=2, votes=(4, 3, 1))
    text = await act(admin, assembly, poll_id, "paper-counts", {"entry": "2", **differ})
    assert "The two entries differ." in text
    assert "The two entries differ in: Valid ballots Invalid ballots Lê Văn Cường" in text
    page = (await admin.get(f"{polls_of(assembly)}/{poll_id}")).text
    assert 'name="valid" value="4"' in page  # the member's own entry, to correct
    assert "Result" not in visible(page)

    text = await act(admin, assembly, poll_id, "paper-counts", {"entry": "2", **counts()})
    assert "Both entries agree: the paper counts stand." in text
    html = (await admin.get(f"{polls_of(assembly)}/{poll_id}")).text
    assert table_row(html, "Nguyễn Văn An · Chủ tịch CĐ ngành Giáo dục", 1)[2:] == [
        "4",
        "66.67%",
        "Elected",
    ]
    assert table_row(html, "Trần Thị Bình · Phó Chủ tịch LĐLĐ tỉnh", 1)[4] == "Not elected"
    assert "Elected: 1 of 2 seats." in visible(html)
    poll = await services.get_poll(assembly["congress"], poll_id)
    assert poll["protocol_document"] is not None


async def test_counts_that_do_not_add_up_keep_what_was_typed(as_role, admin, assembly):
    tally = in_english(await as_role("tally"))
    poll_id = await paper_election(in_english(admin), assembly)
    response = await tally.submit(
        f"{polls_of(assembly)}/{poll_id}/paper-counts",
        {"entry": "1", **counts(collected=7)},
    )
    assert response.status_code == 422
    assert "Ballots collected must equal valid plus invalid ballots." in visible(response.text)
    assert 'name="collected" value="7"' in response.text
    assert 'name="vote_c3" value="2"' in response.text


async def test_a_show_of_cards_counted_unanimous(as_role, assembly):
    presidium = in_english(await as_role("presidium"))
    poll_id = await create(
        presidium, assembly, method="show_of_cards", title="Thông qua chương trình Đại hội"
    )
    await act(presidium, assembly, poll_id, "open")
    text = await act(presidium, assembly, poll_id, "close")
    assert "the result follows as soon as the counts are in" in text
    text = await act(presidium, assembly, poll_id, "show-of-cards", {"unanimous": "true"})
    assert "The show of cards is counted." in text
    assert "Passed" in text
    html = (await presidium.get(f"{polls_of(assembly)}/{poll_id}")).text
    assert table_row(html, "Agree", 0)[1:] == ["6", "100.00%"]
    assert table_row(html, "Disagree", 0)[1:] == ["0", "0.00%"]


async def test_the_tally_committee_counts_and_the_presidium_runs_the_vote(admin, as_role, assembly):
    poll_id = await paper_election(in_english(admin), assembly)
    url = f"{polls_of(assembly)}/{poll_id}"
    tally_page = (await (await as_role("tally")).get(url)).text
    assert f'action="{url}/paper-counts"' in tally_page
    assert f'action="{url}/paper-ballots"' in tally_page
    assert f'action="{url}/close"' not in tally_page
    presidium_page = (await (await as_role("presidium")).get(url)).text
    assert f'action="{url}/close"' in presidium_page
    assert f'action="{url}/paper-counts"' not in presidium_page
    assert f'action="{url}/paper-ballots"' not in presidium_page

    tally = await as_role("tally")
    assert (await tally.submit(f"{url}/close")).status_code == 403
    presidium = await as_role("presidium")
    refused = await presidium.submit(f"{url}/paper-counts", {"entry": "1", **counts()})
    assert refused.status_code == 403


async def test_check_in_staff_are_refused(as_role, assembly):
    checkin = await as_role("checkin")
    assert (await checkin.get(polls_of(assembly))).status_code == 403
    assert (await checkin.submit(polls_of(assembly), {"kind": "motion"})).status_code == 403
    congress_page = (await checkin.get(f"/console/congresses/{assembly['congress']}")).text
    assert "/polls" not in congress_page
    secretariat = await as_role("secretariat")
    listing = await secretariat.get(polls_of(assembly))
    assert listing.status_code == 200
    assert "/polls/new" not in listing.text
    assert (await secretariat.get(f"{polls_of(assembly)}/new")).status_code == 403


async def test_the_turnout_changes_without_reload(client, role_tokens, assembly):
    poll_id = await services.create_poll(
        assembly["congress"],
        services.PollIn(kind="motion", title="Biểu quyết", sitting_id=assembly["sitting"]),
        SYSTEM,
    )
    await services.open_poll(assembly["congress"], poll_id, SYSTEM)
    client.cookies.set("congress_session", role_tokens["presidium"])
    url = f"{polls_of(assembly)}/{poll_id}/live"
    with await client.websocket_connect(url) as socket:
        await services.cast_ballot(
            assembly["congress"], assembly["officials"][0], poll_id, BallotIn(choices=["agree"])
        )
        await services.checkpoint_open_polls()
        update = await asyncio.to_thread(socket.receive_json, timeout=5)
    assert update["type"] == "PollTurnout"
    assert (update["voted"], update["eligible"]) == (1, 6)
    part = await client.get(f"{polls_of(assembly)}/{poll_id}/part")
    assert '<strong id="voted">1</strong>' in part.text


async def test_a_tie_for_the_last_seat_gets_a_runoff(admin, as_role, assembly):
    in_english(admin)
    tally = in_english(await as_role("tally"))
    poll_id = await paper_election(admin, assembly)
    await act(admin, assembly, poll_id, "close")
    tie = counts(issued=10, collected=10, valid=10, invalid=0, votes=(8, 6, 6))
    await act(tally, assembly, poll_id, "paper-counts", {"entry": "1", **tie})
    text = await act(admin, assembly, poll_id, "paper-counts", {"entry": "2", **tie})
    assert (
        "A tie for the last seat: a further round among the tied candidates fills 1 seat." in text
    )
    runoff = await admin.submit(f"{polls_of(assembly)}/{poll_id}/runoff")
    assert runoff.status_code == 200
    runoff_id = poll_id_of(runoff)
    assert runoff_id != poll_id
    assert "Bầu Ban Chấp hành – bầu bổ sung" in visible(runoff.text)
    page = (await admin.get(f"{polls_of(assembly)}/{poll_id}")).text
    assert f'href="/console/congresses/{assembly["congress"]}/polls/{runoff_id}"' in page
    assert f'action="{polls_of(assembly)}/{poll_id}/runoff"' not in page
