"""`aftercart notifier preview FLOW [--locale L]` through the real `aftercart` CLI (typer's runner)."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from deploy.local.cli import app
from services.notifier.domain.flows import FLOWS

runner = CliRunner()


def test_preview_prints_subject_and_text_in_the_locale_asked():
    r = runner.invoke(app, ["notifier", "preview", "order_shipped", "--locale", "de"])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Subject: Ihre Bestellung #1042 ist unterwegs\n")
    assert "Locale: de\n" in r.output and "DHL" in r.output and "Hallo Ana," in r.output


def test_preview_json_and_html_for_every_flow():
    for flow in FLOWS:
        r = runner.invoke(app, ["notifier", "preview", flow, "--json"])
        assert r.exit_code == 0, (flow, r.output)
        body = json.loads(r.output)
        assert body["flow"] == flow and body["subject"] and body["text"] and body["html"]
    r = runner.invoke(app, ["notifier", "preview", "coupon_issued", "--html"])
    assert r.exit_code == 0 and ">AC-7QX2</p>" in r.output


def test_unknown_flow_or_locale_exits_2():
    assert runner.invoke(app, ["notifier", "preview", "nope"]).exit_code == 2
    assert runner.invoke(app, ["notifier", "preview", "welcome", "--locale", "dee"]).exit_code == 2
