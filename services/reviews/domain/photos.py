"""A customer's photo, made safe to store and show: the type is decided by the content (Pillow),
never by the name or the declared type; the size in bytes and in pixels is bounded before decoding;
the picture is re-encoded as a JPEG turned upright and bounded to `max_side` — which leaves every
piece of metadata behind (EXIF with its GPS location, XMP, comments).

    jpeg = clean_photo(raw, PhotoLimits())   # raises PhotoRefused("too_large" | "not_an_image" | "too_many_pixels")
"""
from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})
# A stored photo's name: its review's id and a digest of the content, so a name never points at
# another picture; anything else asked for is not a photo (no path tricks).
NAME = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-[0-9a-f]{16}\.jpg$")


def photo_name(review_id: str, jpeg: bytes) -> str:
    return f"{review_id}-{hashlib.sha256(jpeg).hexdigest()[:16]}.jpg"


class PhotoRefused(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int = 8 * 1024 * 1024
    max_pixels: int = 40_000_000  # width × height as the file declares it, checked before decoding
    max_side: int = 1600  # longest side of what is stored


def clean_photo(raw: bytes, limits: PhotoLimits) -> bytes:
    if len(raw) > limits.max_bytes:
        raise PhotoRefused("too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(raw))
            if probe.format not in ACCEPTED_FORMATS:
                raise PhotoRefused("not_an_image")
            if probe.width * probe.height > limits.max_pixels:
                raise PhotoRefused("too_many_pixels")
            probe.verify()  # structure check; the image must be opened again to decode
            img = Image.open(io.BytesIO(raw))
            img.load()
    except PhotoRefused:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise PhotoRefused("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoRefused("not_an_image") from None
    img = ImageOps.exif_transpose(img)  # upright as the camera meant it, before EXIF goes
    if img.mode in ("RGBA", "LA", "P", "PA"):  # transparency over white, as a page would show it
        rgba = img.convert("RGBA")
        img = Image.new("RGB", rgba.size, "white")
        img.paste(rgba, mask=rgba.getchannel("A"))
    elif img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    img.thumbnail((limits.max_side, limits.max_side))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, optimize=True)  # no exif= / icc_profile=: nothing carried over
    return out.getvalue()
