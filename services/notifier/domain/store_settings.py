"""Per-store settings (pure): what the notifier says on a store's behalf and how.

Stored as JSON in `store_settings(store_id, settings jsonb)` (adapters/settings.py) and set through
the API; every field has a safe default, so a store nobody configured works. Defaults that exist as
NotifierSettings (from_address, default_locale) come from there: `StoreSettings.defaults(...)`.

Sections by owner: flows/branding (ntf-flows + ntf-channels), consent (ntf-consent), channels
(ntf-channels). Add a field with a default; never rename one (stored JSON carries the names).

    s = await tx.settings.store("s1")        # StoreSettings
    f = await tx.settings.flow("s1", "order_thanks")   # FlowSettings
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
from datetime import time
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from services.notifier.domain.locales import FALLBACK, parse_locale

DEFAULT_FROM = "Aftercart <hello@aftercart.local>"


def _http_url(value: str | None) -> str | None:
    value = (value or "").strip() or None
    if value is not None and urlsplit(value).scheme.lower() not in ("http", "https"):
        raise ValueError("must be an http(s) URL")
    return value


def _one_line(value: str | None) -> str | None:
    value = (value or "").strip() or None
    if value is not None and ("\r" in value or "\n" in value):
        raise ValueError("must be one line")  # it goes into a mail header
    return value


def _inet_aton(text: str) -> int | None:
    """The IPv4 address inet_aton(3) reads in `text` (1 to 4 parts, each decimal, 0x hex or 0
    octal; the last fills the remaining bytes), or None when it isn't one."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = []
    for part in parts:
        try:
            if part[:2] in ("0x", "0X"):
                values.append(int(part[2:], 16))
            elif len(part) > 1 and part.startswith("0"):
                values.append(int(part[1:], 8))
            else:
                values.append(int(part, 10) if part.isdigit() else -1)
        except ValueError:
            return None
    *head, last = values
    if any(not 0 <= v <= 255 for v in head) or not 0 <= last < 256 ** (4 - len(head)):
        return None
    address = 0
    for v in head:
        address = address * 256 + v
    return address * 256 ** (4 - len(head)) + last


def is_private_host(host: str) -> bool:
    """Whether a URL host names this machine or a private network by its literal form (no DNS)."""
    host = host.strip("[]").lower()
    if host in ("localhost", "") or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        # Shorthand IPv4 that resolvers accept ("127.1", "2130706433", "0x7f.0.0.1"): read it as
        # the address it names rather than let it pass as a "name".
        shorthand = _inet_aton(host)
        if shorthand is None:
            return False
        ip = ipaddress.IPv4Address(shorthand)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    # Anything not globally routable (loopback, RFC 1918, link-local, CGNAT, ULA, reserved) or multicast.
    return not ip.is_global or ip.is_multicast


class CategoryContent(BaseModel):
    """What the category follow-up says to customers who buy a category (prof-flows)."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=2000)
    url: str | None = Field(default=None, max_length=2000)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return _one_line(value) or value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _http_url(value)


class StoreSettings(BaseModel):
    """One store's settings. Validate with `context={"development": bool}` so a webhook to a private
    address is refused outside development (without context: refused)."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- flows / branding (ntf-flows + ntf-channels)
    store_name: str | None = Field(default=None, max_length=200)
    from_address: str = Field(default=DEFAULT_FROM, max_length=320)  # default: NotifierSettings.from_address
    reply_to: str | None = Field(default=None, max_length=320)
    logo_url: str | None = Field(default=None, max_length=2000)
    brand_colour: str = Field(default="#2d6cdf", pattern=r"^#[0-9a-fA-F]{6}$")
    footer_address: str | None = Field(default=None, max_length=500)  # the store's postal address
    support_email: str | None = Field(default=None, max_length=320)
    support_url: str | None = Field(default=None, max_length=2000)
    returns_url: str | None = Field(default=None, max_length=2000)
    payment_instructions: str | None = Field(default=None, max_length=2000)  # bank transfer details
    locale: str = FALLBACK  # the store's language; default: NotifierSettings.default_locale
    timezone: str = "UTC"  # IANA
    support_alert_address: str | None = Field(default=None, max_length=320)  # review help alerts go here

    # --- consent (ntf-consent)
    consent_meta_key: str | None = Field(default=None, max_length=200)
    quiet_hours_start: time | None = None  # local time in the customer's timezone; None = no quiet hours
    quiet_hours_end: time | None = None
    marketing_per_7_days: int = Field(default=3, ge=0, le=100)
    digest_window_s: int = Field(default=0, ge=0, le=86_400)  # 0 = off

    # --- product flows (prof-flows): at most this many products in a cross-sell / upsell message
    cross_sell_max_products: int = Field(default=3, ge=1, le=12)
    # Segmented follow-ups (segments.py): the order count that earns the loyal-customer offer, and
    # the coupon codes the offer and the win-back name (None: the message thanks / invites only).
    loyal_offer_order: int = Field(default=5, ge=2, le=1000)
    loyal_offer_code: str | None = Field(default=None, max_length=100)
    win_back_code: str | None = Field(default=None, max_length=100)
    # Category follow-up (segments.py): category slug → what to say to customers who buy it most.
    category_content: dict[str, CategoryContent] = Field(default_factory=dict, max_length=200)

    # --- channels (ntf-channels)
    webhook_url: str | None = Field(default=None, max_length=2000)
    webhook_secret: str | None = Field(default=None, max_length=300)  # Standard Webhooks "whsec_..."

    @classmethod
    def defaults(cls, *, from_address: str = DEFAULT_FROM, locale: str = FALLBACK) -> StoreSettings:
        """A store nobody configured, with the service-wide defaults."""
        return cls(from_address=from_address, locale=locale)

    def stored(self, overrides: dict[str, Any]) -> tuple[StoreSettings, list[str]]:
        """These defaults with what a store stored; a stored field that no longer validates (a rule
        tightened since, a field renamed) falls back to its default instead of failing every event
        of the store: (the settings, the names of the fields dropped)."""
        dropped: list[str] = []
        while True:
            try:
                merged = StoreSettings.model_validate({**self.model_dump(mode="json"), **overrides},
                                                      context={"development": True})
                return merged, dropped
            except ValidationError as exc:
                bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]} & set(overrides)
                if not bad:
                    return self, sorted(overrides)
                dropped += sorted(bad)
                overrides = {k: v for k, v in overrides.items() if k not in bad}

    def merged(self, changes: dict[str, Any], *, development: bool) -> StoreSettings:
        """These settings with `changes` applied, validated as a whole (ValidationError on bad input)."""
        return StoreSettings.model_validate({**self.model_dump(mode="json"), **changes},
                                            context={"development": development})

    @field_validator("from_address", "reply_to", "support_email", "support_alert_address", "store_name",
                     "consent_meta_key")
    @classmethod
    def _header_safe(cls, value: str | None) -> str | None:
        return _one_line(value)

    @field_validator("support_email", "support_alert_address", "reply_to")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        if value is not None and "@" not in value:
            raise ValueError("must be an email address")
        return value

    @field_validator("logo_url", "support_url", "returns_url")
    @classmethod
    def _links(cls, value: str | None) -> str | None:
        return _http_url(value)

    @field_validator("locale")
    @classmethod
    def _a_locale(cls, value: str) -> str:
        if parse_locale(value) is None:
            raise ValueError(f"not a locale: {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _a_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: too long, a folder ("Europe")
            raise ValueError(f"not an IANA timezone: {value!r}") from exc
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None, info: ValidationInfo) -> str | None:
        value = _http_url(value)
        development = bool((info.context or {}).get("development", False))
        if value is not None and not development and is_private_host(urlsplit(value).hostname or ""):
            raise ValueError("must not point at a loopback or private address")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            key = base64.b64decode(value.removeprefix("whsec_"), validate=True) if value.startswith("whsec_") else b""
        except binascii.Error:
            key = b""
        # The spec's secrets are 24 to 64 random bytes, base64 after "whsec_".
        if not 24 <= len(key) <= 64:
            raise ValueError("must be a Standard Webhooks secret: whsec_ + base64 of 24 to 64 bytes")
        return value


class FlowSettings(BaseModel):
    """One flow's settings for one store; defaults from the flow registry (domain/flows.py)."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    delay_s: int = Field(default=0, ge=0, le=90 * 86_400)
    channel: str = Field(default="email", pattern=r"^(email|webhook)$")
    marketing: bool = False


class FlowDefaults(BaseModel):
    """A service-wide change to a flow's registry defaults (NotifierSettings.flow_defaults): only the
    fields given change."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool | None = None
    delay_s: int | None = Field(default=None, ge=0, le=90 * 86_400)
    channel: str | None = Field(default=None, pattern=r"^(email|webhook)$")
    marketing: bool | None = None

    def over(self, base: FlowSettings) -> FlowSettings:
        return base.model_copy(update=self.model_dump(exclude_none=True))
