"""A store's own review settings: what it overrides of the service's defaults (ReviewsSettings) —
delays, transit times, the reminder, the delivered statuses, auto-approval, the incentive note and
erasure's rule for display names. Unset (None) means "the service's default", so a default changed
later reaches every store that didn't choose otherwise."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from services.reviews.domain.moderation import ModerationConfig
from services.reviews.domain.timing import TimingConfig


@dataclass(frozen=True)
class StoreOverrides:
    request_delay_days: int | None = None
    reminder_days: int | None = None
    default_transit_days: int | None = None
    transit_days_by_country: dict[str, int] | None = None
    transit_days_by_category: dict[int, int] | None = None
    delivered_statuses: list[str] | None = None
    auto_approve_min_rating: int | None = None
    blocked_words: list[str] | None = None
    incentive_note: str | None = None  # "" = none for this store even if the service has one
    keep_display_name_on_erasure: bool | None = None

    def as_dict(self) -> dict:
        """Only what is set (what storage keeps)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict) -> "StoreOverrides":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "transit_days_by_category" in values and values["transit_days_by_category"] is not None:
            values["transit_days_by_category"] = {int(k): v for k, v in values["transit_days_by_category"].items()}
        return cls(**values)


def timing_for(base: TimingConfig, o: StoreOverrides) -> TimingConfig:
    changes = {k: getattr(o, k) for k in ("request_delay_days", "reminder_days", "default_transit_days",
                                          "transit_days_by_category") if getattr(o, k) is not None}
    if o.transit_days_by_country is not None:
        changes["transit_days_by_country"] = {k.upper(): v for k, v in o.transit_days_by_country.items()}
    if o.delivered_statuses is not None:
        changes["delivered_statuses"] = frozenset(o.delivered_statuses)
    return replace(base, **changes) if changes else base


def moderation_for(base: ModerationConfig, o: StoreOverrides) -> ModerationConfig:
    return ModerationConfig(
        auto_approve_min_rating=base.auto_approve_min_rating if o.auto_approve_min_rating is None
        else o.auto_approve_min_rating,
        blocked_words=base.blocked_words if o.blocked_words is None else frozenset(o.blocked_words))


def incentive_for(base: str | None, o: StoreOverrides) -> str | None:
    return base if o.incentive_note is None else (o.incentive_note or None)


def keep_name_for(base: bool, o: StoreOverrides) -> bool:
    return base if o.keep_display_name_on_erasure is None else o.keep_display_name_on_erasure
