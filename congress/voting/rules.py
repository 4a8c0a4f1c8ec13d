"""The tally rules of the congress's polls: which ballots stand, how votes add up, who is elected.

Pure functions over counts, so that the live count, the tally protocol and a recount all apply
the same rules. The defaults follow the charter of the Vietnamese trade unions: more than half
of the ballots collected, seats filled from the top down, a tie for the last seat sent to a
further round among the tied. Integer arithmetic only: "more than half of the base" is
``2 * votes > base``, so no float can round a half up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import groupby
from typing import Literal

import msgspec

MajorityBase = Literal["collected", "valid", "present", "convened"]
PollKind = Literal["motion", "election"]
MOTION_OPTIONS = ("agree", "disagree", "abstain")  # tán thành / không tán thành / không ý kiến


class Rules(msgspec.Struct, frozen=True):
    """What a poll asks and how its result is decided.

    A motion's options are MOTION_OPTIONS and it has one seat; an election's options are its
    candidates' keys, and a ballot keeps at most ``seats`` of them.
    """

    kind: PollKind
    options: tuple[str, ...]
    seats: int = 1
    majority_base: MajorityBase = "collected"

    def __post_init__(self) -> None:
        if self.seats < 1:
            raise ValueError(f"a poll fills at least one seat, not {self.seats}")
        if len(set(self.options)) != len(self.options):
            raise ValueError(f"option keys must be distinct: {self.options!r}")
        if self.kind == "motion" and (tuple(self.options) != MOTION_OPTIONS or self.seats != 1):
            raise ValueError(f"a motion has the options {MOTION_OPTIONS!r} and one seat")


class PaperCounts(msgspec.Struct, frozen=True):
    """What the tally committee counted on the paper ballots (or the presidium from a show of
    cards, where ``issued`` equals ``collected``)."""

    issued: int
    collected: int
    valid: int
    invalid: int
    votes: dict[str, int]  # option key -> votes among the valid ballots


class Outcome(msgspec.Struct, frozen=True):
    """One option's line in the result. For a motion, ``elected`` on the agree line means the
    motion passed; ``tied`` marks an election candidate tied for the remaining seat(s)."""

    option: str
    votes: int
    elected: bool
    tied: bool


class Result(msgspec.Struct, frozen=True):
    """A poll's counted result, as the tally protocol reports it."""

    kind: PollKind
    seats: int
    majority_base: MajorityBase
    base: int  # the number the majority is computed on
    ballots_collected: int  # e-ballots + paper collected
    ballots_valid: int
    ballots_invalid: int
    paper_issued: int
    e_ballots: int
    present: int
    convened: int
    # election: by votes, most first, then in the order of Rules.options; motion: MOTION_OPTIONS
    outcomes: tuple[Outcome, ...]
    passed: bool | None  # motion only
    elected: tuple[str, ...]  # election only, in outcome order
    tied: tuple[str, ...]  # election: tied for the remaining seat(s)
    seats_left: int  # election: seats not filled; after a tie, the seats of the runoff


class BallotError(ValueError):
    """An e-ballot the rules do not accept. ``code`` is one of no_choice, too_many_choices,
    too_many_names, unknown_option, duplicate_option."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def check_ballot(rules: Rules, choices: Sequence[str]) -> tuple[str, ...]:
    """Validate an e-ballot's choices and return them in the order of ``rules.options``.

    A motion takes exactly one option; an election takes up to ``rules.seats`` distinct
    candidates, and keeping no name at all is a valid election ballot.
    """
    if isinstance(choices, str):
        raise TypeError("choices must be a sequence of option keys, not one string")
    if rules.kind == "motion" and not choices:
        raise BallotError("no_choice")
    if rules.kind == "motion" and len(choices) > 1:
        raise BallotError("too_many_choices")
    chosen = set(choices)
    if not chosen <= set(rules.options):
        raise BallotError("unknown_option")
    if len(chosen) != len(choices):
        raise BallotError("duplicate_option")
    if len(chosen) > rules.seats:
        raise BallotError("too_many_names")
    return tuple(option for option in rules.options if option in chosen)


def tally(
    rules: Rules,
    e_ballots: Iterable[Sequence[str]],
    paper: PaperCounts | None,
    *,
    present: int,
    convened: int,
) -> Result:
    """Count a poll: the e-ballots (every one collected and valid) plus the paper counts.

    Raises ValueError when the paper counts do not add up or a stored e-ballot breaks the
    rules; user input is expected to have been checked before it gets here.
    """
    if present < 0 or convened < 0:
        raise ValueError(f"present ({present}) and convened ({convened}) cannot be negative")
    paper = paper or PaperCounts(issued=0, collected=0, valid=0, invalid=0, votes={})
    _check_paper(rules, paper)
    votes = Counter(paper.votes)
    e_count = 0
    for choices in e_ballots:
        votes.update(check_ballot(rules, choices))
        e_count += 1
    collected, valid = e_count + paper.collected, e_count + paper.valid
    bases = {"collected": collected, "valid": valid, "present": present, "convened": convened}
    base = bases[rules.majority_base]
    counts = {option: votes[option] for option in rules.options}
    decision = (
        _decide_motion(counts, base) if rules.kind == "motion" else _decide(rules, counts, base)
    )
    return Result(
        kind=rules.kind,
        seats=rules.seats,
        majority_base=rules.majority_base,
        base=base,
        ballots_collected=collected,
        ballots_valid=valid,
        ballots_invalid=paper.invalid,
        paper_issued=paper.issued,
        e_ballots=e_count,
        present=present,
        convened=convened,
        outcomes=decision.outcomes,
        passed=decision.passed,
        elected=decision.elected,
        tied=decision.tied,
        seats_left=decision.seats_left,
    )


def runoff_rules(rules: Rules, result: Result) -> Rules:
    """The rules of the further round among the candidates tied for the last seat(s)."""
    if not result.tied:
        raise ValueError("there is no tie to break: a runoff needs tied candidates")
    return Rules(
        kind=rules.kind,
        options=result.tied,
        seats=result.seats_left,
        majority_base=rules.majority_base,
    )


class _Decision(msgspec.Struct, frozen=True):
    outcomes: tuple[Outcome, ...]
    passed: bool | None
    elected: tuple[str, ...] = ()
    tied: tuple[str, ...] = ()
    seats_left: int = 0


def _more_than_half(votes: int, base: int) -> bool:
    # An empty base (nobody voted, nobody present) decides nothing.
    return base > 0 and 2 * votes > base


def _decide_motion(counts: dict[str, int], base: int) -> _Decision:
    passed = _more_than_half(counts["agree"], base)
    outcomes = tuple(
        Outcome(
            option=option, votes=counts[option], elected=passed and option == "agree", tied=False
        )
        for option in MOTION_OPTIONS
    )
    return _Decision(outcomes=outcomes, passed=passed)


def _decide(rules: Rules, counts: dict[str, int], base: int) -> _Decision:
    ranked = sorted(rules.options, key=lambda option: -counts[option])  # stable: options order
    elected, tied = _fill_seats(ranked, counts, rules.seats, base)
    outcomes = tuple(
        Outcome(option=option, votes=counts[option], elected=option in elected, tied=option in tied)
        for option in ranked
    )
    seats_left = rules.seats - len(elected)
    return _Decision(
        outcomes=outcomes, passed=None, elected=elected, tied=tied, seats_left=seats_left
    )


def _fill_seats(
    ranked: list[str], counts: dict[str, int], seats: int, base: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Elect from the top down, a whole group of equal votes at a time: (elected, tied)."""
    elected: list[str] = []
    for votes, group in groupby(ranked, key=lambda option: counts[option]):
        candidates = tuple(group)
        seats_left = seats - len(elected)
        if seats_left == 0 or not _more_than_half(votes, base):
            break
        if len(candidates) > seats_left:
            return tuple(elected), candidates
        elected.extend(candidates)
    return tuple(elected), ()


def _check_paper(rules: Rules, paper: PaperCounts) -> None:
    counts = (paper.issued, paper.collected, paper.valid, paper.invalid, *paper.votes.values())
    if min(counts) < 0:
        raise ValueError("paper counts cannot be negative")
    if paper.collected != paper.valid + paper.invalid:
        raise ValueError(
            f"paper ballots collected ({paper.collected}) must equal valid ({paper.valid})"
            f" + invalid ({paper.invalid})"
        )
    if paper.collected > paper.issued:
        raise ValueError(
            f"more paper ballots collected ({paper.collected}) than issued ({paper.issued})"
        )
    _check_paper_votes(rules, paper)


def _check_paper_votes(rules: Rules, paper: PaperCounts) -> None:
    unknown = sorted(set(paper.votes) - set(rules.options))
    if unknown:
        raise ValueError(f"paper votes for unknown options: {', '.join(unknown)}")
    over = sorted(option for option, votes in paper.votes.items() if votes > paper.valid)
    if over:
        raise ValueError(
            f"more paper votes than valid ballots ({paper.valid}) for: {', '.join(over)}"
        )
    total = sum(paper.votes.values())
    if rules.kind == "motion" and total != paper.valid:
        raise ValueError(
            f"a motion's paper votes ({total}) must add up to the valid ballots ({paper.valid})"
        )
    # Each valid election ballot keeps at most `seats` names.
    if rules.kind == "election" and total > paper.valid * rules.seats:
        raise ValueError(
            f"paper votes ({total}) exceed {rules.seats} names"
            f" on each of {paper.valid} valid ballots"
        )
