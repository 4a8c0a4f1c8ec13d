from collections.abc import Callable, Sequence

import msgspec
import pytest

from congress.voting.rules import (
    MOTION_OPTIONS,
    BallotError,
    MajorityBase,
    PaperCounts,
    Result,
    Rules,
    check_ballot,
    runoff_rules,
    tally,
)

# Candidates for the executive committee (Ban Chấp hành), by option key.
CANDIDATES = {
    "c1": "Nguyễn Thị Lan",
    "c2": "Trần Văn Hùng",
    "c3": "Lê Minh Tuấn",
    "c4": "Phạm Thị Hoa",
    "c5": "Võ Đức Thắng",
    "c6": "Đặng Thu Hà",
}
MOTION = Rules(kind="motion", options=MOTION_OPTIONS)
BASES: tuple[MajorityBase, ...] = ("collected", "valid", "present", "convened")


def paper(votes: dict[str, int], *, valid: int, invalid: int = 0, issued: int = 0) -> PaperCounts:
    collected = valid + invalid
    return PaperCounts(
        issued=max(issued, collected),
        collected=collected,
        valid=valid,
        invalid=invalid,
        votes=votes,
    )


def election(
    seats: int,
    votes: Sequence[int],
    *,
    valid: int = 100,
    majority_base: MajorityBase = "collected",
) -> tuple[Rules, Result]:
    """An election counted on paper only: candidate c1 has votes[0], c2 votes[1], ..."""
    options = tuple(CANDIDATES)[: len(votes)]
    rules = Rules(kind="election", options=options, seats=seats, majority_base=majority_base)
    counts = paper(dict(zip(options, votes, strict=True)), valid=valid)
    return rules, tally(rules, [], counts, present=valid, convened=valid)


def numbers_with_base(majority_base: MajorityBase, base: int) -> tuple[int, int, int, int]:
    """(collected, valid, present, convened) where only the chosen base equals `base`."""
    offsets = {
        "collected": (0, -2, 5, 9),
        "valid": (2, 0, 5, 9),
        "present": (-4, -6, 0, 9),
        "convened": (-5, -7, -3, 0),
    }[majority_base]
    collected, valid, present, convened = (base + offset for offset in offsets)
    return collected, valid, present, convened


THRESHOLDS = [
    (majority_base, base, votes, decided)
    for majority_base in BASES
    for base, votes, decided in [
        (100, 50, False),
        (100, 51, True),
        (101, 50, False),
        (101, 51, True),
    ]
]


@pytest.mark.parametrize(("majority_base", "base", "agree", "passed"), THRESHOLDS)
def test_motion_needs_more_than_half_of_its_base(
    majority_base: MajorityBase, base: int, agree: int, passed: bool
) -> None:
    collected, valid, present, convened = numbers_with_base(majority_base, base)
    rules = Rules(kind="motion", options=MOTION_OPTIONS, majority_base=majority_base)
    counts = paper(
        {"agree": agree, "disagree": valid - agree, "abstain": 0},
        valid=valid,
        invalid=collected - valid,
    )

    result = tally(rules, [], counts, present=present, convened=convened)

    assert result.base == base
    assert result.passed is passed
    assert result.outcomes[0].option == "agree"
    assert result.outcomes[0].elected is passed


@pytest.mark.parametrize(("majority_base", "base", "votes", "elected"), THRESHOLDS)
def test_candidate_needs_more_than_half_of_its_base(
    majority_base: MajorityBase, base: int, votes: int, elected: bool
) -> None:
    collected, valid, present, convened = numbers_with_base(majority_base, base)
    rules = Rules(kind="election", options=("c1", "c2"), seats=1, majority_base=majority_base)
    counts = paper({"c1": votes, "c2": 20}, valid=valid, invalid=collected - valid)

    result = tally(rules, [], counts, present=present, convened=convened)

    assert result.base == base
    assert result.elected == (("c1",) if elected else ())
    assert result.seats_left == (0 if elected else 1)
    assert result.tied == ()


def test_motion_passes_on_e_ballots() -> None:
    ballots = [["agree"]] * 60 + [["disagree"]] * 30 + [["abstain"]] * 10

    result = tally(MOTION, ballots, None, present=105, convened=110)

    assert result.passed is True
    assert [(o.option, o.votes, o.elected) for o in result.outcomes] == [
        ("agree", 60, True),
        ("disagree", 30, False),
        ("abstain", 10, False),
    ]
    assert (result.base, result.ballots_collected, result.ballots_valid) == (100, 100, 100)
    assert (result.e_ballots, result.paper_issued, result.ballots_invalid) == (100, 0, 0)
    assert (result.present, result.convened) == (105, 110)
    assert (result.elected, result.tied, result.seats_left) == ((), (), 0)


def test_motion_fails_when_agree_is_not_a_majority() -> None:
    ballots = [["agree"]] * 40 + [["disagree"]] * 55 + [["abstain"]] * 5

    result = tally(MOTION, ballots, None, present=100, convened=100)

    assert result.passed is False
    assert not any(outcome.elected for outcome in result.outcomes)


@pytest.mark.parametrize("majority_base", ["collected", "valid"])
def test_abstentions_count_in_the_base(majority_base: MajorityBase) -> None:
    # 50 of 100 agree: without the 30 "không ý kiến" it would be 50 of 70 and pass.
    rules = Rules(kind="motion", options=MOTION_OPTIONS, majority_base=majority_base)
    ballots = [["agree"]] * 50 + [["disagree"]] * 20 + [["abstain"]] * 30

    result = tally(rules, ballots, None, present=100, convened=100)

    assert result.base == 100
    assert result.passed is False


def test_election_fills_seats_from_the_top() -> None:
    _, result = election(3, [40, 90, 66, 75, 20])

    assert [(o.option, o.votes) for o in result.outcomes] == [
        ("c2", 90),
        ("c4", 75),
        ("c3", 66),
        ("c1", 40),
        ("c5", 20),
    ]
    assert result.elected == ("c2", "c4", "c3")
    assert [o.elected for o in result.outcomes] == [True, True, True, False, False]
    assert (result.tied, result.seats_left, result.passed) == ((), 0, None)


def test_a_qualified_candidate_below_the_seats_is_not_elected() -> None:
    # Lê Minh Tuấn (c3) has a majority too, but the two seats are already filled.
    _, result = election(2, [80, 65, 55])

    assert result.elected == ("c1", "c2")
    assert result.seats_left == 0
    assert result.tied == ()


def test_equal_votes_keep_the_order_of_the_ballot() -> None:
    _, result = election(2, [10, 70, 50, 70])

    assert [o.option for o in result.outcomes] == ["c2", "c4", "c3", "c1"]
    assert result.elected == ("c2", "c4")


def test_fewer_qualified_than_seats_leaves_seats_open() -> None:
    _, result = election(5, [80, 70, 45, 30, 50, 10])

    assert result.elected == ("c1", "c2")
    assert result.seats_left == 3
    assert result.tied == ()


def test_tie_for_the_last_seat() -> None:
    # Lê Minh Tuấn (c3) and Phạm Thị Hoa (c4) both have 60 of 100 for the third seat.
    _, result = election(3, [80, 70, 60, 60, 30])

    assert result.elected == ("c1", "c2")
    assert result.tied == ("c3", "c4")
    assert result.seats_left == 1
    assert [(o.option, o.elected, o.tied) for o in result.outcomes] == [
        ("c1", True, False),
        ("c2", True, False),
        ("c3", False, True),
        ("c4", False, True),
        ("c5", False, False),
    ]


def test_tie_for_two_of_the_seats() -> None:
    _, result = election(3, [80, 60, 60, 60])

    assert result.elected == ("c1",)
    assert result.tied == ("c2", "c3", "c4")
    assert result.seats_left == 2


def test_tie_that_fits_the_remaining_seats_elects_all() -> None:
    _, result = election(3, [80, 60, 60, 40])

    assert result.elected == ("c1", "c2", "c3")
    assert result.tied == ()
    assert result.seats_left == 0


def test_tie_below_the_majority_is_not_a_tie() -> None:
    _, result = election(2, [80, 40, 40])

    assert result.elected == ("c1",)
    assert result.tied == ()
    assert result.seats_left == 1
    assert not any(outcome.tied for outcome in result.outcomes)


def test_a_tie_at_exactly_half_is_not_a_tie() -> None:
    _, result = election(2, [80, 50, 50])

    assert result.elected == ("c1",)
    assert result.tied == ()


def test_runoff_among_the_tied() -> None:
    rules, result = election(3, [80, 70, 60, 60, 30], majority_base="valid")

    runoff = runoff_rules(rules, result)

    assert runoff == Rules(kind="election", options=("c3", "c4"), seats=1, majority_base="valid")
    second = tally(
        runoff, [["c4"]] * 55 + [["c3"]] * 40 + [[]] * 5, None, present=100, convened=100
    )
    assert second.elected == ("c4",)
    assert second.tied == ()


def test_no_runoff_without_a_tie() -> None:
    rules, result = election(2, [80, 70, 40])

    with pytest.raises(ValueError, match="no tie"):
        runoff_rules(rules, result)


def test_paper_and_e_ballots_add_up() -> None:
    # 40 by phone, 60 on paper of which 3 invalid: 100 collected, 97 valid.
    rules = Rules(kind="election", options=("c1", "c2", "c3"), seats=3)
    e_ballots = [["c1", "c2"]] * 20 + [["c2"]] * 15 + [["c3"]] * 5
    counts = paper({"c1": 30, "c2": 20, "c3": 50}, valid=57, invalid=3, issued=65)

    result = tally(rules, e_ballots, counts, present=104, convened=110)

    assert (result.ballots_collected, result.ballots_valid, result.ballots_invalid) == (100, 97, 3)
    assert (result.e_ballots, result.paper_issued) == (40, 65)
    assert [(o.option, o.votes) for o in result.outcomes] == [("c2", 55), ("c3", 55), ("c1", 50)]
    assert result.base == 100
    assert (result.elected, result.seats_left) == (("c2", "c3"), 1)
    # Nguyễn Thị Lan's 50 is half of the ballots collected but more than half of the valid ones.
    on_valid = tally(
        msgspec.structs.replace(rules, majority_base="valid"),
        e_ballots,
        counts,
        present=104,
        convened=110,
    )
    assert on_valid.base == 97
    assert (on_valid.elected, on_valid.seats_left) == (("c2", "c3", "c1"), 0)


def test_paper_invalid_ballots_count_in_collected_only() -> None:
    counts = paper({"agree": 50, "disagree": 40, "abstain": 6}, valid=96, invalid=4)
    on_collected = tally(MOTION, [], counts, present=100, convened=100)
    on_valid = tally(
        Rules(kind="motion", options=MOTION_OPTIONS, majority_base="valid"),
        [],
        counts,
        present=100,
        convened=100,
    )

    assert (on_collected.base, on_collected.passed) == (100, False)
    assert (on_valid.base, on_valid.passed) == (96, True)


@pytest.mark.parametrize(
    ("rules", "counts", "message"),
    [
        (MOTION, PaperCounts(100, 100, 95, 4, {"agree": 95}), "must equal valid"),
        (MOTION, PaperCounts(90, 100, 100, 0, {"agree": 100}), "than issued"),
        (MOTION, PaperCounts(100, 100, 100, 0, {"agree": 90, "yes": 10}), "unknown options: yes"),
        (MOTION, PaperCounts(100, 100, 100, 0, {"agree": 60, "disagree": 30}), "add up"),
        (MOTION, PaperCounts(100, 100, 100, 0, {"agree": 110, "disagree": -10}), "negative"),
        (
            Rules(kind="election", options=("c1", "c2"), seats=1),
            PaperCounts(100, 100, 90, 10, {"c1": 95, "c2": 0}),
            "more paper votes than valid ballots \\(90\\) for: c1",
        ),
        (
            Rules(kind="election", options=("c1", "c2", "c3"), seats=1),
            PaperCounts(100, 100, 100, 0, {"c1": 60, "c2": 30, "c3": 20}),
            "exceed 1 names",
        ),
    ],
)
def test_inconsistent_paper_counts_raise(rules: Rules, counts: PaperCounts, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tally(rules, [], counts, present=100, convened=100)


def test_a_stored_e_ballot_that_breaks_the_rules_raises() -> None:
    rules = Rules(kind="election", options=("c1", "c2", "c3"), seats=2)

    with pytest.raises(BallotError) as caught:
        tally(rules, [["c1"], ["c1", "c2", "c3"]], None, present=10, convened=10)
    assert caught.value.code == "too_many_names"


def test_zero_ballots_decide_nothing() -> None:
    motion = tally(MOTION, [], None, present=0, convened=0)
    rules = Rules(kind="election", options=("c1", "c2"), seats=2)
    vote = tally(rules, [], None, present=0, convened=0)

    assert (motion.base, motion.passed, motion.ballots_collected) == (0, False, 0)
    assert [o.votes for o in motion.outcomes] == [0, 0, 0]
    assert (vote.base, vote.elected, vote.tied, vote.seats_left) == (0, (), (), 2)


def test_an_empty_base_passes_nothing() -> None:
    # Attendance not taken (present 0) while ballots came in: nothing can be more than half.
    rules = Rules(kind="motion", options=MOTION_OPTIONS, majority_base="present")

    result = tally(rules, [["agree"]] * 10, None, present=0, convened=120)

    assert (result.base, result.passed) == (0, False)


def test_candidates_without_votes_are_never_elected() -> None:
    # Only 3 of 300 convened took part, on a base of those who voted.
    rules = Rules(kind="election", options=("c1", "c2"), seats=2)

    result = tally(rules, [[]] * 3, None, present=3, convened=300)

    assert result.base == 3
    assert result.elected == ()
    assert result.seats_left == 2


@pytest.mark.parametrize(
    ("choices", "kept"),
    [
        (["abstain"], ("abstain",)),
        (("agree",), ("agree",)),
    ],
)
def test_a_motion_ballot_keeps_one_option(choices: Sequence[str], kept: tuple[str, ...]) -> None:
    assert check_ballot(MOTION, choices) == kept


@pytest.mark.parametrize(
    ("choices", "kept"),
    [
        ([], ()),
        (["c3", "c1"], ("c1", "c3")),
        (["c2"], ("c2",)),
    ],
)
def test_an_election_ballot_keeps_up_to_seats_names(
    choices: Sequence[str], kept: tuple[str, ...]
) -> None:
    rules = Rules(kind="election", options=("c1", "c2", "c3", "c4"), seats=2)

    assert check_ballot(rules, choices) == kept


ELECTION = Rules(kind="election", options=("c1", "c2", "c3"), seats=2)


@pytest.mark.parametrize(
    ("rules", "choices", "code"),
    [
        (MOTION, [], "no_choice"),
        (MOTION, ["agree", "disagree"], "too_many_choices"),
        (MOTION, ["agree", "agree"], "too_many_choices"),
        (MOTION, ["yes"], "unknown_option"),
        (ELECTION, ["c1", "c2", "c3"], "too_many_names"),
        (ELECTION, ["c1", "c9"], "unknown_option"),
        (ELECTION, ["c1", "c1"], "duplicate_option"),
    ],
)
def test_ballot_errors_carry_a_code(rules: Rules, choices: Sequence[str], code: str) -> None:
    with pytest.raises(BallotError) as caught:
        check_ballot(rules, choices)

    assert caught.value.code == code
    assert isinstance(caught.value, ValueError)


def test_a_ballot_is_a_sequence_of_keys_not_a_string() -> None:
    with pytest.raises(TypeError):
        check_ballot(MOTION, "agree")


@pytest.mark.parametrize(
    "make",
    [
        lambda: Rules(kind="election", options=("c1", "c2"), seats=0),
        lambda: Rules(kind="election", options=("c1", "c1"), seats=1),
        lambda: Rules(kind="motion", options=("agree", "disagree")),
        lambda: Rules(kind="motion", options=MOTION_OPTIONS, seats=2),
    ],
)
def test_rules_that_make_no_sense_are_refused(make: Callable[[], Rules]) -> None:
    with pytest.raises(ValueError, match=r"seat|distinct|motion"):
        make()
