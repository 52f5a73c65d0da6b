"""HTML that survives mail clients (pure): the templates keep their CSS in one <style> block of the
layout (templates/en/_frame.html.j2) and `inline_css` moves it onto every element with css-inline,
because Gmail, Outlook and most webmail drop or mangle <style>; only the @media rules (the narrow
screen layout), which can't be inlined, stay in a <style> tag for the clients that read them.
Remote stylesheets are never fetched (rendering does no I/O).

`install(env)` gives a template environment the filters the layout uses:
    {{ store.brand_colour | on_colour }}   "#ffffff" or "#111111", whichever reads on that colour
"""
from __future__ import annotations

import re

import css_inline
from jinja2 import Environment

_INLINER = css_inline.CSSInliner(keep_style_tags=False, keep_at_rules=True, keep_link_tags=False,
                                 load_remote_stylesheets=False)
_HEX = re.compile(r"^#([0-9a-fA-F]{6})$")


def inline_css(html: str) -> str:
    """`html` with its <style> rules written into each element's style attribute."""
    return _INLINER.inline(html)


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of "#rrggbb"."""
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def on_colour(background: str | None) -> str:
    """The text colour (white or near-black) with the higher contrast on `background`."""
    if not background or not _HEX.match(background):
        return "#ffffff"
    lum = _luminance(background)
    white, dark = (1.05) / (lum + 0.05), (lum + 0.05) / (_luminance("#111111") + 0.05)
    return "#ffffff" if white >= dark else "#111111"


def install(env: Environment) -> Environment:
    env.filters["on_colour"] = on_colour
    return env
