"""The review page's pure rules: photos checked by content and cleaned (no metadata, bounded),
texts cleaned and bounded, stars 1–5, moderation, and every language having every text."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from services.reviews.domain import reviews as rv
from services.reviews.domain.moderation import ModerationConfig, initial_status
from services.reviews.domain.page_text import EN, LANGUAGES, texts_for
from services.reviews.domain.photos import PhotoLimits, PhotoRefused, clean_photo
from tests.support.images import GPS_IFD, exif_of, jpeg_with_location, png


def test_a_photo_loses_its_location_and_every_other_metadata_and_stands_upright():
    raw = jpeg_with_location((64, 48), orientation=6)
    assert GPS_IFD in exif_of(raw)  # the test picture really carries a location
    out = clean_photo(raw, PhotoLimits())
    assert exif_of(out) == {}
    with Image.open(io.BytesIO(out)) as img:
        assert (img.format, img.size) == ("JPEG", (48, 64))  # turned as the camera said, then EXIF dropped
        assert "exif" not in img.info and "icc_profile" not in img.info


def test_a_photo_is_bounded_in_bytes_pixels_and_size():
    big = Image.new("RGB", (3000, 1000), (1, 2, 3))
    buf = io.BytesIO()
    big.save(buf, "PNG")
    with Image.open(io.BytesIO(clean_photo(buf.getvalue(), PhotoLimits(max_side=600)))) as img:
        assert img.size == (600, 200)
    with pytest.raises(PhotoRefused) as e:
        clean_photo(buf.getvalue(), PhotoLimits(max_pixels=2_000_000))
    assert e.value.code == "too_many_pixels"
    with pytest.raises(PhotoRefused) as e:
        clean_photo(b"\xff" * 2048, PhotoLimits(max_bytes=1024))
    assert e.value.code == "too_large"


@pytest.mark.parametrize("raw", [b"<html><script>alert(1)</script></html>", b"GIF89a" + b"\x00" * 20,
                                 b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10, b"%PDF-1.7\n", b""],
                         ids=["html", "truncated gif", "jpeg magic only", "pdf", "empty"])
def test_anything_but_a_real_image_is_refused_whatever_it_claims(raw):
    with pytest.raises(PhotoRefused) as e:
        clean_photo(raw, PhotoLimits())
    assert e.value.code == "not_an_image"


def test_transparency_is_flattened_onto_white():
    with Image.open(io.BytesIO(clean_photo(png(alpha=True), PhotoLimits()))) as img:
        assert img.mode == "RGB" and img.getpixel((0, 0)) == (255, 255, 255)


def test_texts_are_cleaned_bounded_and_never_interpreted():
    assert rv.clean("  <b>Great</b>\x00 mug  ", 50) == "<b>Great</b> mug"  # HTML stays text (escaped when shown)
    assert rv.clean(" line one\r\nline two \x07", 50, multiline=True) == "line one\nline two"
    assert rv.clean(None, 5) == ""
    with pytest.raises(rv.InvalidInput) as e:
        rv.clean("x" * 6, 5)
    assert e.value.code == "too_long"


@pytest.mark.parametrize("value", ["0", "6", "", None, "x", "3.5"])
def test_stars_are_one_to_five(value):
    with pytest.raises(rv.InvalidInput):
        rv.rating(value)


def test_low_ratings_offer_help_and_moderation_is_the_same_for_every_rating_by_default():
    assert rv.wants_help({5: 5, 9: 3}) and not rv.wants_help({5: 4}) and not rv.wants_help({})
    default = ModerationConfig()
    assert {initial_status(default, n, "fine") for n in range(1, 6)} == {rv.APPROVED}
    strict = ModerationConfig(auto_approve_min_rating=4, blocked_words=frozenset({"Spam"}))
    assert initial_status(strict, 3, "fine") == rv.PENDING  # held for a person, never dropped
    assert initial_status(strict, 5, "buy spam now") == rv.PENDING
    assert initial_status(strict, 5, "spammy? no") == rv.APPROVED  # whole words only


def test_every_language_has_every_text_and_the_locale_picks_it():
    for lang, texts in LANGUAGES.items():
        assert set(texts) == set(EN), lang
    assert texts_for("de_DE")["title"] == "Wie war es?"
    assert texts_for("de-AT")["lang"] == "de"
    assert texts_for("fr_FR") is EN and texts_for(None) is EN
