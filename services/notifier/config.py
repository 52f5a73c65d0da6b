"""Notifier settings (env prefix AFTERCART_NOTIFIER_). Defaults send to the local SMTP sink."""
from __future__ import annotations

from pydantic import field_validator
from pydantic_settings import SettingsConfigDict

from services.notifier.domain.locales import parse_locale

from shared.service.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERCART_NOTIFIER_", extra="ignore")

    port: int = 8002
    database_url: str = "postgresql://notifier:notifier@127.0.0.1:55432/notifier"
    # Bearer token for the internal API; refused outside development mode.
    api_token: str = "dev-notifier-token"
    # SMTP relay. Production: your provider's host, 587 + starttls (or 465 + use_tls) and credentials.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_use_tls: bool = False
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_s: float = 10.0
    # Channels (ntf-channels). SMTP connections kept open and reused by the mailer (also the most
    # messages in flight at once); one idle longer than smtp_pool_idle_s is reopened (relays drop
    # quiet sessions). TLS certificates are verified unless smtp_validate_certs is off (a test relay
    # with a self-signed one: prefer smtp_cert_bundle, a CA file that trusts it).
    smtp_pool_size: int = 4
    smtp_pool_idle_s: float = 30.0
    smtp_validate_certs: bool = True
    smtp_cert_bundle: str | None = None
    # The outgoing webhook channel: how long one POST to a store's URL may take.
    webhook_timeout_s: float = 10.0
    from_address: str = "Aftercart <hello@aftercart.local>"
    # Sending: attempts before a message is marked failed, and the backoff between them.
    send_max_attempts: int = 8
    send_backoff_base_s: float = 1.0
    send_backoff_max_s: float = 300.0
    send_batch: int = 20
    send_idle_poll_s: float = 0.2
    # The store's language for customers whose own locale the order doesn't carry ("en", "de_DE",
    # "de-DE"); a language without templates falls back to English. Per store with the flows API.
    default_locale: str = "en"

    @field_validator("default_locale")
    @classmethod
    def _a_locale(cls, value: str) -> str:
        # A typo ("dee") would silently mean English for every store: refuse it at start-up.
        if parse_locale(value) is None:
            raise ValueError(f"not a locale: {value!r}")
        return value
