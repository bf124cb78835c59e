"""The demo tells the story: the printed employee sign-in shows an active advocate."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskCliRunner

from tests.web.clients import text


def test_the_printed_employee_login_is_an_active_advocate_with_a_won_deal(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    login = re.search(r"sign in as (\S+) / (\S+) \(employee\)", result.output)
    assert login is not None
    client = app.test_client()
    page = client.post("/app/login", data={"email": login[1], "password": login[2]})
    assert page.status_code == 302
    me = client.get("/api/v1/me").json
    assert me["role"] == "employee" and me["employee"] is not None
    figures = me["figures"]
    assert figures["clicks"] > 0 and figures["leads"] > 0 and figures["won"] >= 1
    links = text(client.get("/app/links/"))
    # Share first: post texts to copy, and an ended campaign folded away.
    assert "Copy text + link" in links and 'data-group="ended"' in links
    results = text(client.get("/app/reports/me"))
    assert "Where you stand" in results and "No attributed CRM records" not in results
