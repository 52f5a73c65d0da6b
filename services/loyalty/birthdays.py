"""The birthday bonus, scheduled: on a member's birthday (29 February counts on 28 February in
other years) the store's `birthday_bonus` points become available, once a year — the entry is
keyed by the member and the year, so a rerun or a second instance adds nothing."""
from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import datetime

from services.loyalty.domain.ledger import AVAILABLE
from shared.events.envelope import event_id
from shared.events.follow_up import follow_up_event


def birthdays_today(now: datetime) -> list[tuple[int, int]]:
    days = [(now.month, now.day)]
    if now.month == 2 and now.day == 28 and not calendar.isleap(now.year):
        days.append((2, 29))
    return days


async def grant_birthday_bonuses(transaction: Callable, now: datetime) -> int:
    granted = 0
    async with transaction() as tx:
        stores = await tx.members.stores()
    for store_id in stores:
        async with transaction() as tx:
            rules = await tx.rules.for_store(store_id)
            if rules.birthday_bonus <= 0:
                continue
            keys = await tx.members.born_on(store_id, birthdays_today(now))
        for key in keys:
            async with transaction() as tx:
                entry = event_id("loyalty", "birthday", key, now.year)
                if await tx.ledger.append(entry_id=entry, cause_event_id=entry, customer_key=key, store_id=store_id,
                                          order_id=None, bucket=AVAILABLE, points=rules.birthday_bonus,
                                          reason="birthday"):
                    await tx.members.touch(key, store_id, now)
                    await tx.outbox.write([follow_up_event(
                        service="loyalty", cause_id=entry, event_type="points.available", key=key, time=now,
                        data={"store_id": store_id, "customer_key": key, "points": rules.birthday_bonus,
                              "bucket": AVAILABLE})])
                    granted += 1
    return granted
