"""What the browser tests share: the live server's handle, the viewports, the test files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from tests.support import TEST_DATA

PASSWORD = "correct horse battery"

# Headless Chromium announces itself as a bot; a visitor's browser does not.
DESKTOP_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
BAD_ROWS = TEST_DATA / "crm" / "hubspot_with_bad_rows.csv"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
PHONE_390 = {"width": 390, "height": 844}  # the first screen an employee's phone shows


@dataclass(frozen=True)
class LiveServer:
    url: str
    landing_url: str
    app: Any
    users: dict[str, str]
    imports: dict[str, int]  # name -> CRM import id, for the screenshots

    def session(self) -> Any:
        return self.app.extensions["linktracker"].sessions()


Screenshot = Callable[..., Path]
SignIn = Callable[[Page, str], None]


def busiest_link(live_server: LiveServer, email: str) -> str:
    """The code of this employee's most clicked link (people's clicks)."""
    from sqlalchemy import func, select

    from linktracker.clicks.models import HUMAN_CLICK, Click
    from linktracker.employees.models import Employee
    from linktracker.links.models import Link

    with live_server.session() as session:
        return str(
            session.execute(
                select(Link.code)
                .join(Employee, Employee.id == Link.employee_id)
                .join(Click, Click.link_id == Link.id)
                .where(Employee.email == email, HUMAN_CLICK)
                .group_by(Link.code)
                .order_by(func.count().desc(), Link.code)
                .limit(1)
            ).scalar_one()
        )
