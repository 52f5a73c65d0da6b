"""Every email template, in every shipped language, rendered with a sample order and photographed
in Debian's Chromium (headless, through Playwright, no browser download: /usr/bin/chromium, which
deploy/setup.sh installs) so a person can look at them: PNGs (and the HTML) land in
.state/screenshots/<locale>/<template>.{png,phone.png,html} (gitignored), at 720 px and a phone's 390 px. The test goes over whatever
templates exist, so a new flow's template is photographed too.

What is asserted is what a reader would see: the page has a height, the store's logo loaded and
its name is in the footer, an order email's order table and addresses are visible with one row per
line, and no template markup or "None" leaked into the page.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from services.notifier.domain.digest import Part, build_digest
from services.notifier.domain.links import with_footer
from services.notifier.domain.messages import SHIPPED
from services.notifier.domain.store_settings import StoreSettings
from tests.support.notifier_samples import render_sample

CHROMIUM = "/usr/bin/chromium"
OUT = Path(__file__).resolve().parents[3] / ".state" / "screenshots"
LOGO = (b'<svg xmlns="http://www.w3.org/2000/svg" width="240" height="48" viewBox="0 0 240 48">'
        b'<rect width="48" height="48" rx="10" fill="#7a3e1d"/><circle cx="24" cy="24" r="12" fill="#f5deb3"/>'
        b'<text x="60" y="32" font-family="Georgia, serif" font-size="24" fill="#3b1f0e">Kaffee &amp; Co</text></svg>')
SAMPLE_LINES = 2  # the REST docs order's lines
PHONE_WIDTH = 390


def _pairs() -> list[tuple[str, str]]:
    return sorted((folder, t) for folder, templates in SHIPPED.catalogue().items() for t in templates)


def _shows_order_table(template: str, folder: str) -> bool:
    """Whether the template (or the English one it falls back to) includes the order summary."""
    env = SHIPPED.environment(folder)
    source, _, _ = env.loader.get_source(env, f"{template}.html.j2")
    return "_summary.html.j2" in source


@pytest.fixture(scope="module")
def logo_url():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("content-type", "image/svg+xml")
            self.send_header("content-length", str(len(LOGO)))
            self.end_headers()
            self.wfile.write(LOGO)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/logo.svg"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
async def browser():
    async with async_playwright() as p:
        # --no-sandbox: the test may run as root (CI, containers), where Chromium's sandbox won't start.
        b = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        await b.close()


def test_every_shipped_language_has_every_template():
    catalogue = SHIPPED.catalogue()
    assert {"en", "de"} <= set(catalogue) and catalogue["en"] and catalogue["de"] == catalogue["en"]


async def test_every_template_renders_and_is_photographed(browser, logo_url):
    store = StoreSettings(store_name="Kaffee & Co", logo_url=logo_url, brand_colour="#7a3e1d",
                          footer_address="Kaffee & Co GmbH\nHauptstraße 1\n10115 Berlin, Germany",
                          support_email="help@kaffee.example", support_url="https://kaffee.example/help",
                          returns_url="https://kaffee.example/returns",
                          payment_instructions="IBAN DE89 3704 0044 0532 0130 00, reference: your order number")
    pairs = _pairs()
    assert len(pairs) >= 2 * 10
    page = await browser.new_page(viewport={"width": 720, "height": 900})
    phone = await browser.new_page(viewport={"width": PHONE_WIDTH, "height": 800}, device_scale_factor=2)
    for p in (page, phone):  # nothing leaves the machine: only the local logo server is reachable
        await p.route("**/*", lambda route: route.continue_()
                      if route.request.url.startswith(logo_url.rsplit("/", 1)[0]) else route.abort())
    shot = []
    for folder, template in pairs:
        draft = render_sample(template, folder, store)  # a template error fails here, naming the template
        assert draft.subject and "{{" not in draft.html and "{%" not in draft.html, (folder, template)
        assert draft.locale.split("_")[0] == folder.split("_")[0], (folder, template, draft.locale)
        await page.set_content(draft.html, wait_until="load")
        body = await page.inner_text("body")
        assert "None" not in body and "{{" not in body, (folder, template)
        height = await page.evaluate("document.documentElement.scrollHeight")
        assert height > 300, (folder, template, height)
        assert await page.evaluate("document.querySelector('.header img').naturalWidth") > 0, (folder, template)
        assert "Kaffee & Co" in await page.inner_text(".footer"), (folder, template)
        if _shows_order_table(template, folder):
            assert await page.is_visible("table.order"), (folder, template)
            assert await page.locator("table.order tbody tr").count() == SAMPLE_LINES, (folder, template)
            assert await page.is_visible("table.addresses"), (folder, template)
            assert "Silva Design" in await page.inner_text("table.addresses"), (folder, template)
        target = OUT / folder / f"{template}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.with_suffix(".html").write_text(draft.html)
        await page.screenshot(path=str(target), full_page=True)
        assert target.stat().st_size > 5_000, (folder, template)
        # On a phone the @media rule narrows the frame: nothing wider than the screen.
        await phone.set_content(draft.html, wait_until="load")
        assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH, (folder, template)
        await phone.screenshot(path=str(OUT / folder / f"{template}.phone.png"), full_page=True)
        shot.append(target)
    # A store's digest of a marketing message and an order email, with the one-click unsubscribe line.
    parts = [render_sample(t, "en", store) for t in ("order_shipped", "points_earned")]
    digest = build_digest([Part(f"m{n}", d.subject, d.text, d.html) for n, d in enumerate(parts)], "en")
    _, html = with_footer(digest.text, digest.html, "https://kaffee.example/u/t0k3n", "en")
    await page.set_content(html, wait_until="load")
    assert await page.locator(".footer").count() == 1 and await page.locator("table.order").count() == 1
    assert await page.locator(".footer a[href='https://kaffee.example/u/t0k3n']").is_visible()
    await page.screenshot(path=str(OUT / "en" / "_digest_with_unsubscribe.png"), full_page=True)
    await page.close()
    await phone.close()
    assert len(shot) == len(pairs)
