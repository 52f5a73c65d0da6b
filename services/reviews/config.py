"""Reviews settings (env prefix AFTERCART_REVIEWS_). Every setting has a safe local default; the
secrets (api_token, link_secret) are refused outside development mode when left at it."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from shared.service.settings import InsecureSettings, ServiceSettings

DEV_LINK_SECRET = "dev-reviews-link-secret"


class ReviewsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERCART_REVIEWS_", extra="ignore")

    port: int = 8004
    database_url: str = "postgresql://reviews:reviews@127.0.0.1:55432/reviews"
    # Bearer token for the internal API; refused outside development mode.
    api_token: str = "dev-reviews-token"
    # Days after the goods arrived before asking for a review (time to unpack and use them).
    request_delay_days: int = Field(7, ge=0, le=365)
    # One reminder this many days after the ask when it is unanswered; 0 sends none.
    reminder_days: int = Field(5, ge=0, le=365)
    # Expected transit (dispatch → arrival) when the destination country has no figure of its own.
    default_transit_days: int = Field(7, ge=0, le=120)
    # Per destination country (ISO alpha-2), e.g. AFTERCART_REVIEWS_TRANSIT_DAYS_BY_COUNTRY='{"DE": 2, "US": 9}'.
    transit_days_by_country: dict[str, int] = {}
    # Per product category id (catalog.v1), winning over the country: '{"17": 21}' for freight goods.
    transit_days_by_category: dict[int, int] = {}
    # Order statuses a tracking plugin uses for "delivered" (with or without WooCommerce's "wc-" prefix).
    delivered_statuses: list[str] = ["delivered"]
    # How often the scheduler looks for due asks and reminders, and how many it claims per transaction.
    scheduler_poll_s: float = Field(30.0, gt=0)
    scheduler_batch: int = Field(50, ge=1, le=1000)
    # Signs the customer's review links (itsdangerous); refused outside development when left at the default.
    link_secret: str = DEV_LINK_SECRET
    # How long a review link stays valid after the ask went out.
    link_max_age_days: int = Field(60, ge=1, le=365)
    # Where customers reach the review pages (the service itself, or a proxy in front of it).
    public_url: str = "http://127.0.0.1:8004"

    # Review photos: stored as files here (created on first use), bounded in bytes and pixels, kept
    # at most this long on their longest side.
    photo_dir: Path = Path(".state/reviews/photos")
    photo_max_bytes: int = Field(8 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    photo_max_pixels: int = Field(40_000_000, ge=10_000)
    photo_max_side: int = Field(1600, ge=100, le=8000)
    # Moderation: reviews at or above this rating without a blocked word are approved on their own;
    # the others wait in the moderation queue (content-neutral: a held review is never dropped for
    # its rating).
    auto_approve_min_rating: int = Field(1, ge=1, le=6)
    blocked_words: list[str] = []
    # customer.erased: published reviews keep their display name (True) or lose it too (False).
    keep_display_name_on_erasure: bool = False

    # Publication to WooCommerce: the store's REST credentials come from ingest's internal API
    # (GET /stores/{id}/rest-access with ingest's bearer token), never from Kafka or a log.
    ingest_url: str = "http://127.0.0.1:8001"
    ingest_api_token: str = "dev-ingest-token"
    publish_poll_s: float = Field(10.0, gt=0)
    publish_timeout_s: float = Field(15.0, gt=0)
    publish_max_attempts: int = Field(8, ge=1, le=100)
    publish_backoff_base_s: float = Field(60.0, gt=0)
    # Added to every published review when the store rewards reviews (points, a coupon), e.g.
    # "This reviewer received loyalty points for a review." — the same whatever the rating. Empty: none.
    incentive_note: str = ""

    @model_validator(mode="after")
    def _refuse_dev_link_secret(self) -> "ReviewsSettings":
        if self.environment != "development" and self.ingest_api_token.startswith("dev-"):
            raise InsecureSettings("ReviewsSettings: ingest_api_token is the built-in development token: set"
                                   " AFTERCART_REVIEWS_INGEST_API_TOKEN (ingest's API token), or run with"
                                   " AFTERCART_ENV=development on a laptop")
        if self.environment != "development" and (self.link_secret == DEV_LINK_SECRET or len(self.link_secret) < 24):
            raise InsecureSettings("ReviewsSettings: link_secret is the built-in development secret or shorter than"
                                   " 24 characters: set AFTERCART_REVIEWS_LINK_SECRET, or run with"
                                   " AFTERCART_ENV=development on a laptop")
        return self

