"""LocalPhotoStore: review photos as files under one folder (AFTERCART_REVIEWS_PHOTO_DIR), written
atomically (a temporary file renamed into place), named as domain/photos.py's photo_name says. tests/support/fakes/reviews.py's MemoryPhotoStore is its twin."""
from __future__ import annotations

import os
from pathlib import Path

from services.reviews.domain.photos import NAME


class LocalPhotoStore:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def save(self, name: str, jpeg: bytes) -> None:
        if not NAME.match(name):
            raise ValueError("not a photo name")
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(jpeg)
        os.replace(tmp, self.folder / name)

    def delete(self, name: str) -> None:
        if NAME.match(name):
            (self.folder / name).unlink(missing_ok=True)

    def path(self, name: str) -> Path | None:
        """The file of a stored photo; None for a name that isn't one (no path tricks) or is gone."""
        if not NAME.match(name):
            return None
        p = self.folder / name
        return p if p.is_file() else None
