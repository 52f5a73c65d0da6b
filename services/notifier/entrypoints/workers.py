"""The notifier's own worker: the sender loops, sending round after round (sending.send_batch: claim
a batch, deliver it concurrently, group-commit the outcomes) while messages are due, then polling
every `send_idle_poll_s`; `send_rounds` of them overlap. (The consumer loop and the outbox relay are the shared ones; bootstrap
wires all three.)"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from services.notifier.sending import Decide, Transactions, Written, send_batch, send_everything
from shared.logging import get_logger

if TYPE_CHECKING:
    from services.notifier.config import NotifierSettings

log = get_logger(__name__)


async def run_sender(transactions: Transactions, channels, settings: NotifierSettings, *,
                     decide: Decide = send_everything, written: Written | None = None) -> None:
    """`send_rounds` rounds at once: while one round's batch is on its way, the next is claimed
    and gated (rows are leased: two rounds never take the same message)."""
    async def rounds() -> None:
        while True:
            try:
                claimed = await send_batch(transactions, channels, settings, decide=decide, written=written)
                if claimed < settings.send_batch:  # a full batch: more may be due at once
                    await asyncio.sleep(settings.send_idle_poll_s)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # DB away: wait and carry on; claimed rows fall due again with their lease
                log.warning("sender_error", error=type(exc).__name__)
                await asyncio.sleep(1.0)

    await asyncio.gather(*(rounds() for _ in range(max(1, settings.send_rounds))))
