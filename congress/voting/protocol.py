"""The tally protocol (biên bản kiểm phiếu): placeholder until the PDF lands."""

from __future__ import annotations

from congress.eventlog import Actor


async def file_tally_protocol(congress_id: int, poll_id: int, actor: Actor) -> int | None:
    return None
