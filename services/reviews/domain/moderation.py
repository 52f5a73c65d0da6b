"""Moderation: which reviews go out on their own and which wait for a person. Auto-approval by
rating and blocked words; with the defaults every review is approved unless it contains a blocked
word. Holding low ratings for a person (auto_approve_min_rating > 1) is allowed only as a
content-neutral check: a held review is still published unless rejected for its content (16 CFR 465
forbids suppressing reviews for being negative)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from services.reviews.domain.reviews import APPROVED, PENDING


@dataclass(frozen=True)
class ModerationConfig:
    auto_approve_min_rating: int = 1
    blocked_words: frozenset[str] = frozenset()


def has_blocked_word(config: ModerationConfig, text: str) -> bool:
    words = set(re.findall(r"\w+", text.casefold()))
    return any(w.casefold() in words for w in config.blocked_words)


def initial_status(config: ModerationConfig, rating: int, text: str) -> str:
    if rating >= config.auto_approve_min_rating and not has_blocked_word(config, text):
        return APPROVED
    return PENDING
