"""Typed exceptions: handlers raise PermanentError for events that can never be handled (the shared
consumer loop dead-letters them at once; anything else untyped counts as transient and is retried);
adapters raise SendRefused so use cases never parse a protocol's error codes."""


class PermanentError(Exception):
    """The event can never be handled (bad data, broken invariant): dead-letter it at once."""


class SendRefused(Exception):
    """A channel (SMTP relay, SMS gateway…) refused a message. The adapter decides which kind:
    `temporary` (4xx, connection refused, timeout: try again later) or permanent (5xx: never)."""

    def __init__(self, message: str, *, temporary: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.temporary, self.code = temporary, code
