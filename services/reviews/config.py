"""Reviews settings (env prefix AFTERCART_REVIEWS_)."""
from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.service.settings import ServiceSettings


class ReviewsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERCART_REVIEWS_", extra="ignore")

    port: int = 8004
    database_url: str = "postgresql://reviews:reviews@127.0.0.1:55432/reviews"
    # Bearer token for the internal API; refused outside development mode.
    api_token: str = "dev-reviews-token"
    # Days after completion before asking for a review (time to unpack and use the goods).
    request_delay_days: int = 7
