"""Small pictures made on the spot for the photo tests: a JPEG carrying EXIF with a GPS location
and an orientation, a PNG with transparency, and files that only pretend to be images."""
from __future__ import annotations

import io

from PIL import Image

GPS_IFD, ORIENTATION, MAKE = 0x8825, 0x0112, 0x010F


def jpeg_with_location(size=(64, 48), orientation: int = 6) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[MAKE] = "TestCam"
    exif[ORIENTATION] = orientation  # 6: rotate 90° to be upright
    exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png(size=(32, 32), alpha: bool = True) -> bytes:
    img = Image.new("RGBA" if alpha else "RGB", size, (0, 120, 0, 0) if alpha else (0, 120, 0))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def exif_of(jpeg: bytes) -> dict:
    with Image.open(io.BytesIO(jpeg)) as img:
        return dict(img.getexif())
