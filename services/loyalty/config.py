"""Loyalty settings (env prefix AFTERCART_LOYALTY_)."""
from __future__ import annotations

from decimal import Decimal

from pydantic_settings import SettingsConfigDict

from shared.service.settings import ServiceSettings


class LoyaltySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERCART_LOYALTY_", extra="ignore")

    port: int = 8003
    database_url: str = "postgresql://loyalty:loyalty@127.0.0.1:55432/loyalty"
    # Bearer token for the internal API; refused outside development mode.
    api_token: str = "dev-loyalty-token"
    # Points earned per whole unit of the order's currency (after discounts, before tax/shipping).
    points_per_unit: Decimal = Decimal("1")
