"""A poll's hash chain: each step of its life is a link whose digest covers the one before.

A link is (position, kind, payload); its digest is SHA-256 over the previous digest, the
position, the kind and the payload as canonical JSON (keys sorted, no spaces, UTF-8). The
last digest is the poll's fingerprint: printed on the tally protocol and shown with the
result, so a changed link, a removed one or a reordered one shows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

GENESIS = "0" * 64

# The kinds of link, in the order a poll's life can produce them.
CREATED = "created"
OPENED = "opened"
CHECKPOINT = "checkpoint"
PAPER = "paper"
CARDS = "cards"
CLOSED = "closed"
RESULT = "result"
KINDS = (CREATED, OPENED, CHECKPOINT, PAPER, CARDS, CLOSED, RESULT)


class Link(msgspec.Struct, frozen=True):
    position: int
    kind: str
    payload: str  # canonical JSON
    digest: str


class ChainBroken(ValueError):
    """The chain does not verify; `position` is the first link that fails."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(f"link {position}: {reason}")
        self.position = position
        self.reason = reason


def canonical(payload: Any) -> str:
    return msgspec.json.encode(payload, order="sorted").decode()


def digest_of(previous: str, position: int, kind: str, payload: str) -> str:
    data = f"{previous}\n{position}\n{kind}\n{payload}".encode()
    return hashlib.sha256(data).hexdigest()


def next_link(previous: str, position: int, kind: str, payload: Any) -> Link:
    body = canonical(payload)
    return Link(position, kind, body, digest_of(previous, position, kind, body))


def verify(links: Sequence[Link]) -> str:
    """The head digest of a chain that verifies; ChainBroken otherwise."""
    head = GENESIS
    for expected_position, link in enumerate(links, start=1):
        if link.position != expected_position:
            raise ChainBroken(expected_position, "a link is missing or out of order")
        if link.kind not in KINDS:
            raise ChainBroken(link.position, f"unknown kind {link.kind!r}")
        if canonical(msgspec.json.decode(link.payload)) != link.payload:
            raise ChainBroken(link.position, "the payload is not in canonical form")
        if digest_of(head, link.position, link.kind, link.payload) != link.digest:
            raise ChainBroken(link.position, "the digest does not match")
        head = link.digest
    return head


def id_set_digest(ids: Iterable[str]) -> str:
    """A digest of the ballots received so far (their private random ids), in any order."""
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


def sealed_digest(ballots: Sequence[tuple[str, Sequence[str]]]) -> str:
    """A digest of the sealed ballot list: (receipt, choices), sorted by receipt."""
    return hashlib.sha256(canonical(sorted([r, list(c)] for r, c in ballots)).encode()).hexdigest()


def fingerprint(digest: str) -> str:
    """The head digest as people read it aloud: 16 hex digits in groups of four."""
    head = digest[:16].upper()
    return "-".join(head[i : i + 4] for i in range(0, 16, 4))
