"""Named fault points for crash tests (e.g. kill a consumer between its DB commit and its offset
commit). Inactive unless AFTERCART_FAULT names the point: then the process dies at once, like
a kill -9, without running any cleanup. Tests set it on a subprocess; nothing else should."""
from __future__ import annotations

import os


def hit(point: str) -> None:
    if os.environ.get("AFTERCART_FAULT") == point:
        os._exit(137)
