"""Satisfaction figures for a store (or one product of it) over the asks sent in a period: how many
were asked, how many answered and reviewed (the conversion), the stars (average and distribution,
from every rating given — with or without words), help requests, and the time from the ask to the
review (median and 90th percentile)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Satisfaction:
    asked: int  # requests sent in the period (for a product: those asking about it)
    answered: int  # of those, answered at all (stars, a review or a help request)
    reviewed: int  # of those, with at least one review (for a product: reviewed for it)
    reviews: int  # reviews written
    ratings: dict[int, int]  # stars given → how many times (1..5, all present)
    help_requests: int
    median_hours_to_review: float | None
    p90_hours_to_review: float | None
    csat: dict[int, int] | None = None  # the optional score (1..5) → how many answered it

    @property
    def csat_average(self) -> float | None:
        n = sum((self.csat or {}).values())
        return round(sum(k * v for k, v in self.csat.items()) / n, 3) if n else None

    @property
    def conversion(self) -> float | None:
        """Share of asks that led to a review."""
        return round(self.reviewed / self.asked, 4) if self.asked else None

    @property
    def response_rate(self) -> float | None:
        return round(self.answered / self.asked, 4) if self.asked else None

    @property
    def average_rating(self) -> float | None:
        n = sum(self.ratings.values())
        return round(sum(k * v for k, v in self.ratings.items()) / n, 3) if n else None
