"""Signed, expiring links to the public customer pages (unsubscribe, preferences), and what a
marketing message carries because of them: RFC 8058 one-click headers and a footer line.

A link's token is signed with itsdangerous (HMAC, timestamped) and names the store, the customer
key and the address hash — never the address, since URLs end up in proxies' and browsers' logs.

    links = LinkSigner(secret, max_age_s=90 * 86400, base_url="https://mail.example")
    url = links.unsubscribe_url(UnsubscribeTarget("s1", "s1:c1", address_hash("ana@example.com")))
    target = links.verify(token)          # raises BadLink (ExpiredLink when too old)
"""
from __future__ import annotations

import hashlib
import hmac
import html
import re
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "aftercart.notifier.unsubscribe"
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
FOOTER_SLOT = "<!--aftercart:footer-end-->"
FOOTER = {
    "en": ("You get this email because you agreed to hear from us. Unsubscribe: {url}",
           'You get this email because you agreed to hear from us. <a href="{url}">Unsubscribe</a>'),
    "de": ("Sie erhalten diese E-Mail, weil Sie dem zugestimmt haben. Abmelden: {url}",
           'Sie erhalten diese E-Mail, weil Sie dem zugestimmt haben. <a href="{url}">Abmelden</a>'),
}


class BadLink(ValueError):
    """The token isn't one we signed (or was altered)."""


class ExpiredLink(BadLink):
    """We signed it, but longer ago than links live."""


@dataclass(frozen=True)
class UnsubscribeTarget:
    store_id: str
    customer_key: str
    address_hash: str


def derived_secret(api_token: str) -> str:
    """The link key when none is configured: HMAC of the API token (never the token itself)."""
    return hmac.new(api_token.encode(), b"aftercart-notifier-links", hashlib.sha256).hexdigest()


class LinkSigner:
    def __init__(self, secret: str, *, max_age_s: int, base_url: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT)
        self.max_age_s, self.base_url = max_age_s, base_url.rstrip("/")

    def token(self, target: UnsubscribeTarget) -> str:
        return self._serializer.dumps([target.store_id, target.customer_key, target.address_hash])

    def verify(self, token: str) -> UnsubscribeTarget:
        try:
            store_id, key, digest = self._serializer.loads(token, max_age=self.max_age_s)
        except SignatureExpired as exc:
            raise ExpiredLink("link expired") from exc
        except (BadSignature, ValueError, TypeError) as exc:
            raise BadLink("link not valid") from exc
        return UnsubscribeTarget(str(store_id), str(key), str(digest))

    def unsubscribe_url(self, target: UnsubscribeTarget) -> str:
        return f"{self.base_url}/u/{self.token(target)}"

    def preferences_url(self, token: str) -> str:
        return f"{self.base_url}/u/{token}/preferences"


def one_click_headers(url: str) -> dict[str, str]:
    """RFC 8058: the provider POSTs "List-Unsubscribe=One-Click" to the https link."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def with_footer(text: str, body_html: str, url: str, locale: str | None) -> tuple[str, str]:
    """The bodies with the unsubscribe line at the end (in the message's language, else English)."""
    lang = (locale or "en").replace("-", "_").split("_")[0].lower()
    text_line, html_line = FOOTER.get(lang, FOOTER["en"])
    safe = html.escape(url, quote=True)
    block = f'<p style="font-size:12px;color:#666666;margin:16px 0 0">{html_line.format(url=safe)}</p>'
    matches = list(_BODY_END.finditer(body_html))
    if FOOTER_SLOT in body_html:  # inside the branded frame's footer (templates/en/_frame.html.j2)
        body_html = body_html.replace(FOOTER_SLOT, block + FOOTER_SLOT, 1)
    elif matches:  # before the last </body>, so the line stays inside the document
        at = matches[-1].start()
        body_html = body_html[:at] + block + body_html[at:]
    else:
        body_html = body_html + block
    return f"{text.rstrip()}\n\n-- \n{text_line.format(url=url)}\n", body_html
