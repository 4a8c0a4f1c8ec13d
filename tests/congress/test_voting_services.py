"""The poll rules as the presidium and the tally committee meet them: quorum, ties and the
runoff, paper plus phones, the double entry, shows of cards, and the offline verifier."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from congress import accounts
from congress.cli import main
from congress.errors import Conflict, InvalidInput
from congress.eventlog import SYSTEM, Actor, events_of
from congress.voting import services
from congress.voting.schemas import (
    BallotIn,
    CandidateIn,
    HandOutIn,
    PaperCountsIn,
    PollIn,
    ShowOfCardsIn,
)
from congress.voting.tables import PollBallot
from tests.congress.voting_fixtures import make_assembly

CANDIDATES = [
    CandidateIn(name="Nguyễn Văn An", note="Chủ tịch CĐ ngành Giáo dục"),
    CandidateIn(name="Trần Thị Bình", note="Phó Chủ tịch LĐLĐ huyện Kỳ Anh"),
    CandidateIn(name="Lê Văn Cường", note="Chủ tịch CĐ Khu kinh tế"),
    CandidateIn(name="Phạm Thị Dung", note="Trưởng ban Nữ công"),
]


@pytest.fixture
async def assembly(make_congress) -> dict[str, Any]:
    return await make_assembly(await make_congress(), officials=6, invited=1)


async def member(name: str) -> Actor:
    account_id = await accounts.create_account(
        f"kp.{secrets.token_hex(3)}", name, "x" * 12, ["tally"]
    )
    return Actor(kind="account", id=account_id, name=name)


async def open_poll(assembly: dict[str, Any], **fields: Any) -> int:
    data = PollIn(
        **{"kind": "motion", "title": "Biểu quyết", "sitting_id": assembly["sitting"], **fields}
    )
    poll_id = await services.create_poll(assembly["congress"], data, SYSTEM)
    await services.open_poll(assembly["congress"], poll_id, SYSTEM)
    return poll_id


async def vote(assembly: dict[str, Any], delegate: int, poll_id: int, *choices: str) -> str:
    ballot = BallotIn(choices=list(choices), retry_key=secrets.token_hex(8))
    return await services.cast_ballot(assembly["congress"], delegate, poll_id, ballot)


async def result(assembly: dict[str, Any], poll_id: int) -> Any:
    poll = await services.get_poll(assembly["congress"], poll_id)
    return services.result_of(poll)


async def test_the_quorum_is_needed_to_open(make_congress) -> None:
    # 6 official delegates convened, 3 present: two thirds would be 4.
    assembly = await make_assembly(await make_congress(), officials=6, invited=0, present=3)
    data = PollIn(kind="motion", title="Thông qua chương trình", sitting_id=assembly["sitting"])
    poll_id = await services.create_poll(assembly["congress"], data, SYSTEM)
    with pytest.raises(Conflict) as refused:
        await services.open_poll(assembly["congress"], poll_id, SYSTEM)
    assert refused.value.code == "quorum_not_reached"
    assert refused.value.params == {"present": 3, "required": 4}
    poll = await services.get_poll(assembly["congress"], poll_id)
    assert poll["status"] == "draft"
    without = await services.create_poll(
        assembly["congress"],
        PollIn(
            kind="motion", title="Thủ tục", sitting_id=assembly["sitting"], require_quorum=False
        ),
        SYSTEM,
    )
    await services.open_poll(assembly["congress"], without, SYSTEM)


async def test_who_may_vote_and_clear_refusals(assembly) -> None:
    poll_id = await open_poll(assembly)
    invited = assembly["invited"][0]
    with pytest.raises(Conflict) as not_official:
        await vote(assembly, invited, poll_id, "agree")
    assert not_official.value.code == "not_official"  # official delegates checked in only
    first = assembly["officials"][0]
    with pytest.raises(InvalidInput) as two:
        await vote(assembly, first, poll_id, "agree", "disagree")
    assert two.value.code == "too_many_choices"
    await vote(assembly, first, poll_id, "agree")
    with pytest.raises(Conflict) as again:
        await vote(assembly, first, poll_id, "disagree")
    assert again.value.code == "already_voted"
    await services.close_poll(assembly["congress"], poll_id, SYSTEM)
    with pytest.raises(Conflict) as closed:
        await vote(assembly, assembly["officials"][1], poll_id, "agree")
    assert closed.value.code == "poll_closed"


async def test_a_retry_gets_the_same_receipt(assembly) -> None:
    poll_id = await open_poll(assembly)
    ballot = BallotIn(choices=["agree"], retry_key="the-same-key-123")
    delegate = assembly["officials"][0]
    first = await services.cast_ballot(assembly["congress"], delegate, poll_id, ballot)
    second = await services.cast_ballot(assembly["congress"], delegate, poll_id, ballot)
    assert first == second
    assert await PollBallot.count().where(PollBallot.poll == poll_id) == 1
    # The same key from another phone is another ballot, never the first one's receipt.
    other = await services.cast_ballot(
        assembly["congress"], assembly["officials"][1], poll_id, ballot
    )
    assert other != first


async def test_election_tie_for_the_last_seat_and_its_runoff(assembly) -> None:
    congress = assembly["congress"]
    poll_id = await open_poll(
        assembly, kind="election", title="Bầu BCH", seats=3, candidates=CANDIDATES
    )
    a, b, c, d, e, f = assembly["officials"]
    # An 6, Bình 4, Cường 4, Dung 4 of 6 ballots, 3 seats: An is elected, the other three
    # all have a majority (2·4 > 6) and are tied for the 2 seats left.
    for voter, kept in (
        (a, ("c1", "c2", "c3")),
        (b, ("c1", "c2", "c3")),
        (c, ("c1", "c2", "c4")),
        (d, ("c1", "c2", "c4")),
        (e, ("c1", "c3", "c4")),
        (f, ("c1", "c3", "c4")),
    ):
        await vote(assembly, voter, poll_id, *kept)
    with pytest.raises(InvalidInput) as too_many:
        await services.cast_ballot(
            congress, a, poll_id, BallotIn(choices=["c1", "c2", "c3", "c4"], retry_key="")
        )
    assert too_many.value.code == "too_many_names"
    await services.close_poll(congress, poll_id, SYSTEM)
    outcome = await result(assembly, poll_id)
    assert outcome.elected == ("c1",)
    assert set(outcome.tied) == {"c2", "c3", "c4"}
    assert outcome.seats_left == 2
    runoff = await services.create_runoff(congress, poll_id, SYSTEM)
    created = await services.get_poll(congress, runoff)
    assert created["runoff_of"] == poll_id
    assert created["seats"] == 2
    assert [o["label"] for o in created["options"]] == [
        "Trần Thị Bình",
        "Lê Văn Cường",
        "Phạm Thị Dung",
    ]
    with pytest.raises(Conflict) as twice:
        await services.create_runoff(congress, poll_id, SYSTEM)
    assert twice.value.code == "runoff_exists"


async def test_paper_ballots_with_phones_and_a_double_entry(assembly) -> None:
    congress = assembly["congress"]
    poll_id = await open_poll(assembly, method="phone_and_paper")
    a, b, c, d, e, f = assembly["officials"]
    for voter in (a, b, c):
        await vote(assembly, voter, poll_id, "agree")
    handed = await services.hand_out_paper_ballot(
        congress, poll_id, HandOutIn(card_number="0004"), SYSTEM
    )
    assert handed["id"] == d
    with pytest.raises(Conflict) as on_paper:
        await vote(assembly, d, poll_id, "disagree")
    assert on_paper.value.code == "voted_on_paper"
    for voter in (e, f):
        await services.hand_out_paper_ballot(
            congress, poll_id, HandOutIn(delegate_id=voter), SYSTEM
        )
    await services.close_poll(congress, poll_id, SYSTEM)
    assert await result(assembly, poll_id) is None  # the paper is not counted yet
    first, second = await member("Hồ Thị Kiểm"), await member("Dương Văn Phiếu")
    # 3 paper ballots: 1 invalid, 1 disagree, 1 agree.
    good = PaperCountsIn(
        issued=3, collected=3, valid=2, invalid=1, votes={"agree": 1, "disagree": 1}
    )
    wrong = PaperCountsIn(
        issued=3, collected=3, valid=2, invalid=1, votes={"agree": 2, "disagree": 0}
    )
    assert await services.enter_paper_counts(congress, poll_id, 1, good, first) is None
    with pytest.raises(Conflict) as same:
        await services.enter_paper_counts(congress, poll_id, 2, good, first)
    assert same.value.code == "same_member"
    assert await services.enter_paper_counts(congress, poll_id, 2, wrong, second) is False
    assert await result(assembly, poll_id) is None  # counts stand only when both agree
    assert await services.enter_paper_counts(congress, poll_id, 2, good, second) is True
    outcome = await result(assembly, poll_id)
    votes = {o.option: o.votes for o in outcome.outcomes}
    assert votes == {"agree": 4, "disagree": 1, "abstain": 0}
    assert (outcome.ballots_collected, outcome.ballots_valid, outcome.ballots_invalid) == (6, 5, 1)
    # Base "ballots collected" (6): 4 agree is more than half.
    assert outcome.base == 6
    assert outcome.passed is True
    with pytest.raises(Conflict) as late:
        await services.enter_paper_counts(congress, poll_id, 1, wrong, first)
    assert late.value.code == "counts_closed"


async def test_inconsistent_paper_counts_are_refused(assembly) -> None:
    poll_id = await open_poll(assembly, method="paper")
    bad = PaperCountsIn(issued=5, collected=6, valid=6, invalid=0, votes={"agree": 6})
    with pytest.raises(InvalidInput) as refused:
        await services.enter_paper_counts(assembly["congress"], poll_id, 1, bad, SYSTEM)
    assert refused.value.code == "collected_over_issued"


async def test_the_base_decides_a_close_motion(assembly) -> None:
    """3 agree, 2 disagree, 1 no opinion of 6 present official delegates (7 convened...)."""
    congress = assembly["congress"]
    outcomes = {}
    for base in ("collected", "valid", "present", "convened"):
        poll_id = await open_poll(assembly, majority_base=base, title=f"Căn cứ {base}")
        for voter, choice in zip(
            assembly["officials"], ["agree"] * 4 + ["disagree", "abstain"], strict=True
        ):
            await vote(assembly, voter, poll_id, choice)
        await services.close_poll(congress, poll_id, SYSTEM)
        outcomes[base] = await result(assembly, poll_id)
    assert {base: r.base for base, r in outcomes.items()} == {
        "collected": 6,
        "valid": 6,
        "present": 6,
        "convened": 6,
    }
    assert all(r.passed for r in outcomes.values())  # 2·4 > 6


async def test_show_of_cards_unanimous(assembly) -> None:
    congress = assembly["congress"]
    poll_id = await open_poll(assembly, method="show_of_cards", majority_base="present")
    await services.count_show_of_cards(congress, poll_id, ShowOfCardsIn(unanimous=True), SYSTEM)
    await services.close_poll(congress, poll_id, SYSTEM)
    outcome = await result(assembly, poll_id)
    assert outcome.passed is True
    assert {o.option: o.votes for o in outcome.outcomes}["agree"] == 6


async def test_turnout_is_sent_at_checkpoints_not_per_ballot(assembly) -> None:
    congress = assembly["congress"]
    poll_id = await open_poll(assembly)
    before = len(await events_of(congress))
    for voter in assembly["officials"][:4]:
        await vote(assembly, voter, poll_id, "agree")
    assert len(await events_of(congress)) == before, "a ballot is never an event"
    assert await services.checkpoint_poll(congress, poll_id) is True
    assert await services.checkpoint_poll(congress, poll_id) is False  # nothing changed
    turnout = await events_of(congress, types=["PollTurnout"])
    assert [(e.payload["voted"], e.payload["eligible"]) for e in turnout] == [(4, 6)]


async def test_a_named_poll_keeps_who_voted_what(assembly) -> None:
    poll_id = await open_poll(assembly, named=True)
    await vote(assembly, assembly["officials"][0], poll_id, "disagree")
    await services.close_poll(assembly["congress"], poll_id, SYSTEM)
    export = await services.export_poll(assembly["congress"], poll_id)
    assert export["ballots"][0]["delegate"] == assembly["officials"][0]


async def _exported(assembly: dict[str, Any], tmp_path: Path) -> tuple[dict[str, Any], Path]:
    poll_id = await open_poll(
        assembly, kind="election", title="Bầu UBKT", seats=2, candidates=CANDIDATES
    )
    for voter in assembly["officials"]:
        await vote(assembly, voter, poll_id, "c1", "c4")
    await services.checkpoint_poll(assembly["congress"], poll_id)
    await services.close_poll(assembly["congress"], poll_id, SYSTEM)
    export = await services.export_poll(assembly["congress"], poll_id)
    path = tmp_path / "poll.json"
    path.write_text(json.dumps(export, default=str))
    return export, path


async def test_verify_poll_accepts_an_honest_export(assembly, tmp_path: Path) -> None:
    _, path = await _exported(assembly, tmp_path)
    run = CliRunner().invoke(main, ["verify-poll", str(path)])
    assert run.exit_code == 0, run.output
    assert "the poll verifies" in run.output


@pytest.mark.parametrize("tamper", ["ballot", "result", "chain", "drop_ballot"])
async def test_verify_poll_finds_a_tampered_export(assembly, tmp_path: Path, tamper: str) -> None:
    export, path = await _exported(assembly, tmp_path)
    if tamper == "ballot":
        export["ballots"][0]["choices"] = ["c2", "c3"]
    elif tamper == "result":
        export["result"]["elected"] = ["c2", "c3"]
    elif tamper == "chain":
        export["chain"][1]["payload"] = export["chain"][1]["payload"].replace("6", "7")
    else:
        export["ballots"].pop()
    path.write_text(json.dumps(export, default=str))
    run = CliRunner().invoke(main, ["verify-poll", str(path)])
    assert run.exit_code == 1, run.output
    assert "DOES NOT verify" in run.output
