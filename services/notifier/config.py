"""Notifier settings (env prefix AFTERCART_NOTIFIER_). Defaults send to the local SMTP sink."""
from __future__ import annotations

from pydantic_settings import SettingsConfigDict

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
    from_address: str = "Aftercart <hello@aftercart.local>"
    # Sending: attempts before a message is marked failed, and the backoff between them.
    send_max_attempts: int = 8
    send_backoff_base_s: float = 1.0
    send_backoff_max_s: float = 300.0
    send_batch: int = 20
    send_idle_poll_s: float = 0.2
