"""ProfilesUnitOfWork: what a handler gets as `tx` — the profiles and the catalogue (faust tables
or dicts), the per-store segment thresholds, and an outbox of records the agent publishes after
the handler returns (profile.updated, or a tombstone: key with no value)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from services.profiles.adapters.tables import TableCatalogue, TableProfiles
from services.profiles.domain.segments import Thresholds
from shared.events.envelope import Outgoing


@dataclass
class QueuedOutbox:
    records: list[tuple[str, Outgoing | None]] = field(default_factory=list)

    def write(self, out: Outgoing) -> None:
        self.records.append((out.key, out))

    def tombstone(self, key: str) -> None:
        self.records.append((key, None))


@dataclass
class ProfilesUnitOfWork:
    profiles: TableProfiles
    catalogue: TableCatalogue
    thresholds: Callable[[str], Thresholds]
    outbox: QueuedOutbox = field(default_factory=QueuedOutbox)
