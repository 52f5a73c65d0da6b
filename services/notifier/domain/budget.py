"""The contact budget (pure): at most N marketing messages per customer in any rolling 7 days,
across every marketing flow (order follow-ups, loyalty, reviews alike).

Over budget, a message is deferred, not dropped: until the oldest contact in the window leaves it,
when one slot frees. (Dropping would lose a coupon or a points-expiry warning the customer would
want; a message that waited too long for its order to still fit is cancelled at send time by the
order-state check instead.) N = 0 means no marketing at all (gating suppresses it rather than
deferring it forever); None means no budget.
"""
from __future__ import annotations

from datetime import datetime, timedelta

WINDOW = timedelta(days=7)


def budget_until(contacts: list[datetime], limit: int | None, now: datetime) -> datetime | None:
    """When the next marketing message may go, or None if it may go now. `contacts`: the times of
    the marketing messages already sent (or being sent) to this customer."""
    if limit is None:
        return None
    recent = sorted(t for t in contacts if now - WINDOW < t <= now)
    if len(recent) < limit:
        return None
    if limit <= 0:
        return now + WINDOW  # checked again then: a store that allows none may change its mind
    # The (len - limit + 1)-th oldest leaving the window brings the count below the limit.
    return recent[len(recent) - limit] + WINDOW
