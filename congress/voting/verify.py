"""`congress verify-poll`: recompute a poll's tally and chain from its export, offline.

Trusts nothing in the export but the chain itself: the configuration, the counts and the
result are read from the links, checked against what the export claims, and the result is
computed again from the sealed ballots with the same rules the server used.
"""

from __future__ import annotations

from typing import Any

import msgspec

from congress.voting import chain, rules


class Check(msgspec.Struct, frozen=True):
    name: str
    ok: bool
    detail: str = ""


class Verification(msgspec.Struct, frozen=True):
    checks: list[Check]
    fingerprint: str

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def _payloads(links: list[chain.Link], kind: str) -> list[Any]:
    return [msgspec.json.decode(link.payload) for link in links if link.kind == kind]


def _links(export: dict[str, Any]) -> list[chain.Link]:
    return [msgspec.convert(link, chain.Link) for link in export.get("chain", [])]


def verify_export(export: dict[str, Any]) -> Verification:
    """Every check, passed or failed; a broken chain stops the rest."""
    checks: list[Check] = []
    try:
        links = _links(export)
        head = chain.verify(links)
    except (chain.ChainBroken, msgspec.ValidationError) as error:
        return Verification([Check("chain", False, str(error))], "")
    checks.append(Check("chain", True, f"{len(links)} links"))
    checks.append(Check("head", head == export.get("head"), "the export names the chain's head"))
    fingerprint = chain.fingerprint(head)
    checks.append(Check("fingerprint", fingerprint == export.get("fingerprint"), fingerprint))

    created = _payloads(links, chain.CREATED)
    closed = _payloads(links, chain.CLOSED)
    results = _payloads(links, chain.RESULT)
    if len(created) != 1 or len(closed) != 1 or len(results) != 1:
        checks.append(Check("life", False, "created, closed and result must each appear once"))
        return Verification(checks, fingerprint)
    configuration, sealed, sealed_result = created[0], closed[0], results[0]
    checks.append(
        Check("configuration", configuration == export.get("configuration"), "as created")
    )
    checks.extend(_ballot_checks(export, sealed))
    counts = (_payloads(links, chain.PAPER) + _payloads(links, chain.CARDS)) or [None]
    checks.append(
        Check("paper counts", counts[-1] == export.get("paper_counts"), "as sealed in the chain")
    )
    checks.extend(_tally_checks(export, configuration, sealed, counts[-1], sealed_result))
    return Verification(checks, fingerprint)


def _ballot_checks(export: dict[str, Any], sealed: dict[str, Any]) -> list[Check]:
    ballots = export.get("ballots", [])
    pairs = [(b["receipt"], b["choices"]) for b in ballots]
    receipts = [r for r, _ in pairs]
    return [
        Check("ballots", len(ballots) == sealed["e_ballots"], f"{len(ballots)} e-ballots"),
        Check("receipts", len(set(receipts)) == len(receipts), "no receipt twice"),
        Check("sealed list", chain.sealed_digest(pairs) == sealed["sealed"], "as sealed at close"),
    ]


def _tally_checks(
    export: dict[str, Any],
    configuration: dict[str, Any],
    sealed: dict[str, Any],
    counts: dict[str, Any] | None,
    sealed_result: dict[str, Any],
) -> list[Check]:
    poll_rules = rules.Rules(
        kind=configuration["kind"],
        options=tuple(o["key"] for o in configuration["options"]),
        seats=configuration["seats"],
        majority_base=configuration["majority_base"],
    )
    try:
        result = rules.tally(
            poll_rules,
            (b["choices"] for b in export.get("ballots", [])),
            msgspec.convert(counts, rules.PaperCounts) if counts is not None else None,
            present=sealed["present"],
            convened=sealed["convened"],
        )
    except (ValueError, msgspec.ValidationError) as error:
        return [Check("tally", False, f"cannot be recomputed: {error}")]
    recomputed = msgspec.json.decode(msgspec.json.encode(result))  # tuples become lists
    return [
        Check("tally", recomputed == sealed_result, "recomputed from the ballots and counts"),
        Check("result", export.get("result") == sealed_result, "the export's result is sealed"),
    ]
