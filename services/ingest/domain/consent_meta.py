"""Marketing-consent meta of an order or customer payload: the `meta_data` entries whose key looks
like a consent plugin's (newsletter, marketing, opt-in, subscribe, consent, GDPR, and the mail
plugins' prefixes), carried as `consent_meta` {key: value} so a consumer can read the one key its
store's plugin writes (the notifier's per-store `consent_meta_key`) without ingest knowing it.

Only scalar values, trimmed, at most MAX_ENTRIES entries of at most MAX_VALUE characters: the rest
of the meta (addresses, VAT numbers, plugin state) stays out of the events.
"""
from __future__ import annotations

import re

# [assumed key words: what consent plugins are known to write, e.g. "_wc_newsletter_opt_in",
# "mailpoet_woocommerce_checkout_optin", "_mc4wp_subscribe", "marketing_consent", "gdpr_consent"]
_CONSENT_KEY = re.compile(r"consent|newsletter|marketing|opt[-_ ]?in|subscri|gdpr|mailpoet|mc4wp|mailchimp|klaviyo",
                          re.IGNORECASE)
MAX_ENTRIES = 10
MAX_KEY = 100
MAX_VALUE = 100


def consent_meta(meta_data: object) -> dict[str, str] | None:
    """The consent-looking entries of `meta_data` (a list of {"key", "value"}), or None if none."""
    out: dict[str, str] = {}
    for entry in meta_data if isinstance(meta_data, list) else []:
        if len(out) >= MAX_ENTRIES:
            break
        if not isinstance(entry, dict):
            continue
        key, value = entry.get("key"), entry.get("value")
        if not isinstance(key, str) or len(key) > MAX_KEY or not _CONSENT_KEY.search(key):
            continue
        if isinstance(value, bool):
            value = "yes" if value else "no"
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            out.setdefault(key, str(value).strip()[:MAX_VALUE])
    return out or None
