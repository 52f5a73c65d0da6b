"""Typed exceptions handlers raise; the shared consumer loop classifies them (see kafka/consumer.py)."""


class PermanentError(Exception):
    """The event can never be handled (bad data, broken invariant): dead-letter it at once."""


class TransientError(Exception):
    """Try again later (a dependency is away); the loop retries with backoff, then dead-letters."""
