"""The notifier's own worker: the sender loop, calling the sending use case until nothing is due,
then polling. (The consumer loop and the outbox relay are the shared ones; bootstrap wires all three.)"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from services.notifier.sending import Mailer, Transactions, send_one
from shared.logging import get_logger

if TYPE_CHECKING:
    from services.notifier.config import NotifierSettings

log = get_logger(__name__)


async def run_sender(transactions: Transactions, mailer: Mailer, settings: NotifierSettings) -> None:
    while True:
        try:
            if not await send_one(transactions, mailer, settings):
                await asyncio.sleep(settings.send_idle_poll_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # DB away: wait and carry on; rows stay pending
            log.warning("sender_error", error=type(exc).__name__)
            await asyncio.sleep(1.0)
