"""FakeOutbox: PgOutbox's interface, in memory. Like the real one, a repeated event id is ignored."""
from __future__ import annotations

from shared.events.envelope import Outgoing


class FakeOutbox:
    def __init__(self) -> None:
        self.events: list[Outgoing] = []

    async def write(self, events: list[Outgoing]) -> int:
        known = {e.envelope.id for e in self.events}
        new = []
        for e in events:
            if e.envelope.id not in known:
                known.add(e.envelope.id)
                new.append(e)
        self.events.extend(new)
        return len(new)

    @property
    def types(self) -> list[str]:
        return [e.envelope.type for e in self.events]

    def of_type(self, event_type: str) -> list[Outgoing]:
        return [e for e in self.events if e.envelope.type == event_type]
