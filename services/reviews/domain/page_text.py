"""The review pages' words, per language: the order's locale ("de_DE" → German), English when the
store's language isn't shipped. Adding a language is adding a dictionary with the same keys (a
unit test checks every language has every key)."""
from __future__ import annotations

EN = {
    "lang": "en",
    "title": "How was it?",
    "intro": "Thank you for your order {order}. It takes a minute: stars first, then a few words if you like.",
    "stars_for": "Your rating for {product}",
    "star": "{n} star", "stars": "{n} stars",
    "continue": "Continue",
    "review_title": "Tell others about it",
    "review_intro": "Your review is published on the store with your display name. Every field but the stars is optional, "
                    "and your review is welcome whatever you thought.",
    "field_title": "Title", "field_text": "Your review", "field_photo": "A photo (optional, JPEG, PNG or WebP)",
    "field_name": "Display name", "field_rating": "Stars",
    "submit": "Publish my review",
    "help_title": "Can we help?",
    "help_intro": "We are sorry it wasn't great. Tell us what happened and the store will get back to you. "
                  "You can still post a review below, whatever you decide.",
    "help_field": "What went wrong?", "help_submit": "Ask the store for help",
    "help_sent": "Thank you — the store has your message and will get back to you.",
    "thanks_title": "Thank you!",
    "thanks_text": "Your review has been received. It appears on the store once it is published.",
    "thanks_again": "We already have your review of {product}: thank you!",
    "error_title": "This link doesn't work",
    "error_invalid": "The link is incomplete or has been altered. Please open it again from the email we sent you.",
    "error_expired": "This link has expired. Reviews can be written for a while after an order; this one is over.",
    "error_gone": "There is nothing to review here any more (the order was cancelled or refunded).",
    "rating_required": "Please choose from 1 to 5 stars for each product.",
    "text_required": "Please write a few words for at least one product, or skip the review.",
    "too_long": "One of the texts is too long.",
    "not_in_order": "That product is not part of this order.",
    "help_required": "Please tell us what went wrong (up to 2000 characters).",
    "too_large": "The photo is too large (8 MB at most).",
    "not_an_image": "That file is not a photo we can use (JPEG, PNG or WebP).",
    "too_many_pixels": "The photo has too many pixels.",
    "verified": "Verified purchase",
    "csat_question": "One last question (optional): overall, how satisfied are you with your order?",
    "csat_1": "1: very dissatisfied", "csat_2": "2: dissatisfied", "csat_3": "3: neutral", "csat_4": "4: satisfied",
    "csat_5": "5: very satisfied", "csat_submit": "Send", "csat_thanks": "Thank you for your answer.",
}

DE = {
    "lang": "de",
    "title": "Wie war es?",
    "intro": "Danke für Ihre Bestellung {order}. Es dauert eine Minute: zuerst Sterne, dann gern ein paar Worte.",
    "stars_for": "Ihre Bewertung für {product}",
    "star": "{n} Stern", "stars": "{n} Sterne",
    "continue": "Weiter",
    "review_title": "Erzählen Sie anderen davon",
    "review_intro": "Ihre Bewertung erscheint im Shop mit Ihrem Anzeigenamen. Außer den Sternen ist alles freiwillig, "
                    "und Ihre Bewertung ist willkommen, egal wie Ihr Urteil ausfällt.",
    "field_title": "Titel", "field_text": "Ihre Bewertung", "field_photo": "Ein Foto (freiwillig, JPEG, PNG oder WebP)",
    "field_name": "Anzeigename", "field_rating": "Sterne",
    "submit": "Bewertung veröffentlichen",
    "help_title": "Können wir helfen?",
    "help_intro": "Es tut uns leid, dass es nicht gut war. Schreiben Sie uns, was passiert ist; der Shop meldet sich bei "
                  "Ihnen. Unten können Sie trotzdem eine Bewertung schreiben, ganz wie Sie möchten.",
    "help_field": "Was ist schiefgelaufen?", "help_submit": "Den Shop um Hilfe bitten",
    "help_sent": "Danke — der Shop hat Ihre Nachricht und meldet sich bei Ihnen.",
    "thanks_title": "Vielen Dank!",
    "thanks_text": "Ihre Bewertung ist angekommen. Sie erscheint im Shop, sobald sie veröffentlicht ist.",
    "thanks_again": "Ihre Bewertung von {product} haben wir schon: danke!",
    "error_title": "Dieser Link funktioniert nicht",
    "error_invalid": "Der Link ist unvollständig oder verändert. Bitte öffnen Sie ihn erneut aus unserer E-Mail.",
    "error_expired": "Dieser Link ist abgelaufen. Bewertungen sind eine Zeit lang nach einer Bestellung möglich; "
                     "diese ist vorbei.",
    "error_gone": "Hier gibt es nichts mehr zu bewerten (die Bestellung wurde storniert oder erstattet).",
    "rating_required": "Bitte wählen Sie für jedes Produkt 1 bis 5 Sterne.",
    "text_required": "Bitte schreiben Sie zu mindestens einem Produkt ein paar Worte oder überspringen Sie die Bewertung.",
    "too_long": "Einer der Texte ist zu lang.",
    "not_in_order": "Dieses Produkt gehört nicht zu dieser Bestellung.",
    "help_required": "Bitte schreiben Sie, was schiefgelaufen ist (bis zu 2000 Zeichen).",
    "too_large": "Das Foto ist zu groß (höchstens 8 MB).",
    "not_an_image": "Diese Datei ist kein Foto, das wir verwenden können (JPEG, PNG oder WebP).",
    "too_many_pixels": "Das Foto hat zu viele Pixel.",
    "verified": "Verifizierter Kauf",
    "csat_question": "Eine letzte Frage (freiwillig): Wie zufrieden sind Sie insgesamt mit Ihrer Bestellung?",
    "csat_1": "1: sehr unzufrieden", "csat_2": "2: unzufrieden", "csat_3": "3: neutral", "csat_4": "4: zufrieden",
    "csat_5": "5: sehr zufrieden", "csat_submit": "Senden", "csat_thanks": "Danke für Ihre Antwort.",
}

LANGUAGES = {"en": EN, "de": DE}


def texts_for(locale: str | None) -> dict[str, str]:
    """The dictionary for a WooCommerce/BCP 47 locale ("de_DE", "de-AT", "en"), English by default."""
    lang = (locale or "").replace("-", "_").split("_")[0].lower()
    return LANGUAGES.get(lang, EN)
