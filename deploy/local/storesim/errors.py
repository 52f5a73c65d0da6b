"""The simulated store's WP_Error (its own module: the store and its order mixin both raise it)."""
from __future__ import annotations

from typing import Any


class WCError(Exception):
    """A WP_Error: rendered by the REST API as {"code","message","data":{"status",...}}."""

    def __init__(self, code: str, message: str, status: int, **data: Any):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status, self.data = code, message, status, data

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message,
                "data": {"status": self.status, **self.data}}
