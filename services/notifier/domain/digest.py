"""Digest (pure): several messages for one customer that fall due within the store's digest window
become one email — the first one's subject with a count, each part's text in turn, each part's
HTML body inside the first part's document (its head, styles and layout), oldest due first.

A part is a message gating let through (consent, suppression, quiet hours, budget are decided per
part, so a deferred marketing part is simply not in it). The parts were rendered when recorded;
the digest only places them.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from services.notifier.domain.messages import SIGNATURE

_BODY = re.compile(r"(<body[^>]*>)(.*)(</body\s*>)", re.IGNORECASE | re.DOTALL)
# The message's own part inside the branded frame (templates/en/_frame.html.j2 marks it), so a
# digest keeps one header and one footer around every part's content.
_CONTENT = re.compile(r"(<!--aftercart:content-->)(.*)(<!--/aftercart:content-->)", re.DOTALL)
SUBJECT = {"en": "{subject} (+{more} more)", "de": "{subject} (+{more} weitere)"}
TEXT_RULE = "\n\n" + "-" * 40 + "\n\n"
HTML_RULE = '<hr style="border:0;border-top:1px solid #dddddd;margin:24px 0">'


@dataclass(frozen=True)
class Part:
    message_id: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    html: str
    message_ids: tuple[str, ...]  # the lead first: the email carries its Message-ID


def _lang(locale: str | None) -> str:
    return (locale or "en").replace("-", "_").split("_")[0].lower()


def _inner(document: str) -> str:
    m = _CONTENT.search(document) or _BODY.search(document)
    return m.group(2) if m else document


def _split_signature(text: str) -> tuple[str, str]:
    """(the text, its store signature with the "-- " line) — the signature "" when it has none."""
    at = text.rfind(SIGNATURE)
    return (text[:at], text[at:]) if at >= 0 else (text, "")


def build_digest(parts: Sequence[Part], locale: str | None = None) -> Digest:
    """One email from `parts` (at least one; the first leads)."""
    if not parts:
        raise ValueError("a digest needs at least one part")
    lead = parts[0]
    if len(parts) == 1:
        return Digest(lead.subject, lead.text, lead.html, (lead.message_id,))
    subject = SUBJECT.get(_lang(locale), SUBJECT["en"]).format(subject=lead.subject, more=len(parts) - 1)
    # One store signature, at the end, rather than one after every part.
    signature = _split_signature(lead.text)[1].rstrip()
    text = TEXT_RULE.join(_split_signature(p.text)[0].strip() for p in parts) + (signature or "") + "\n"
    inner = HTML_RULE.join(_inner(p.html) for p in parts)
    m = _CONTENT.search(lead.html) or _BODY.search(lead.html)
    html = lead.html[:m.start(2)] + inner + lead.html[m.end(2):] if m else inner
    return Digest(subject, text, html, tuple(p.message_id for p in parts))
