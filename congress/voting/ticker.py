"""Turnout at a fixed interval: each app instance looks at the open polls every few seconds
and checkpoints those whose turnout changed (one instance wins each checkpoint)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from congress import database
from congress.voting import services

log = logging.getLogger(__name__)


async def _tick_forever(interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await services.checkpoint_open_polls()
        except Exception as error:
            # The next tick tries again; a poll's turnout is never lost, only late. While the
            # database is away one line a tick says so, not a traceback every two seconds.
            outage = database.outage(error)
            if outage is None:
                log.exception("turnout checkpoint failed")
            else:
                log.warning("turnout checkpoint skipped: %s (%r)", outage.code, error)


@contextlib.asynccontextmanager
async def turnout_ticker(interval: float) -> AsyncIterator[None]:
    """Runs the ticker for the app's lifetime; an interval of 0 switches it off (tests
    call services.checkpoint_open_polls themselves)."""
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(_tick_forever(interval))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
