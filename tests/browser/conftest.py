"""A real server (CSRF on) on a free port, a landing page of our own, and headless Chromium."""

from __future__ import annotations

import io
import random
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "Browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium).",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from werkzeug.serving import BaseWSGIServer, make_server  # noqa: E402

from linktracker import create_app  # noqa: E402
from linktracker.auth.services import find_user_by_email, set_password  # noqa: E402
from linktracker.campaigns.models import Campaign  # noqa: E402
from linktracker.clicks.models import Click  # noqa: E402
from linktracker.crm.services import ImportContext, store_upload, upload_and_import  # noqa: E402
from linktracker.db import utcnow  # noqa: E402
from linktracker.demo import DEMO_EMPLOYEE, load_demo_data  # noqa: E402
from linktracker.employees.models import Employee  # noqa: E402
from linktracker.migrate import upgrade_database  # noqa: E402
from tests.browser.live import (  # noqa: E402
    BAD_ROWS,
    DESKTOP,
    DESKTOP_UA,
    PASSWORD,
    LiveServer,
    Screenshot,
    SignIn,
)
from tests.support import TEST_DATA  # noqa: E402

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USERS = {
    "admin": "admin@example.com",
    "marketer": "marketer@example.com",
    "sales_ops": "salesops@example.com",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _landing(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = (
        "<!doctype html><title>Landing page</title><h1>Landing page</h1>"
        f"<p id='query'>{environ.get('QUERY_STRING', '')}</p>"
    ).encode()
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [body]


def _demo_deals(handles: list[str], slugs: list[str], count: int = 160) -> bytes:
    """A CRM export of deals over the last months: most from employee links, some not."""
    rng = random.Random(11)
    now = utcnow()
    lines = ["external_id,kind,created_at,stage,won,closed_at,amount,currency,"
             "utm_campaign,utm_content"]  # fmt: skip
    for n in range(count):
        created = now - timedelta(days=rng.uniform(1, 85))
        advocacy = rng.random() < 0.6
        won = rng.random() < (0.35 if advocacy else 0.18)
        closed = min(created + timedelta(days=rng.uniform(5, 40)), now) if won else None
        stage = "Closed won" if won else rng.choice(["Qualified", "Proposal", "Closed lost"])
        amount = str(rng.choice([800, 1500, 2400, 5000, 12000])) if won else ""
        cells = [
            f"D-{1000 + n}",
            "deal",
            created.strftime("%Y-%m-%d %H:%M"),
            stage,
            "true" if won else "false",
            closed.strftime("%Y-%m-%d %H:%M") if closed else "",
            amount,
            "EUR" if won else "",
            rng.choice(slugs) if advocacy else "",
            rng.choice(handles) if advocacy else "",
        ]
        lines.append(",".join(cells))
    return "\n".join(lines).encode()


def _seed_crm(session: Any, uploads: str, secret: bytes) -> dict[str, int]:
    """A demo deals import, the shared file with bad rows, and one upload awaiting review."""
    # Leads go to the busiest sharers, as they tend to in a real program.
    handles = list(
        session.scalars(
            select(Employee.handle)
            .join(Click, Click.employee_id == Employee.id)
            .group_by(Employee.handle)
            .order_by(func.count().desc(), Employee.handle)
            .limit(25)
        )
    )
    slugs = list(session.scalars(select(Campaign.slug)))
    deals = upload_and_import(
        session,
        io.BytesIO(_demo_deals(handles, slugs)),
        filename="crm-deals-export.csv",
        context=ImportContext(uploads, secret),
    )
    bad = upload_and_import(
        session,
        io.BytesIO(BAD_ROWS.read_bytes()),
        filename=BAD_ROWS.name,
        context=ImportContext(uploads, secret),
    )
    leads = TEST_DATA / "crm" / "salesforce_leads_report.csv"
    with leads.open("rb") as stream:
        pending = store_upload(session, stream, filename=leads.name, upload_folder=uploads)
    return {"deals": deals.id, "bad_rows": bad.id, "pending": pending.id}


def _serve(server: BaseWSGIServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("browser")
    landing = make_server("localhost", _free_port(), _landing, threaded=True)
    port = _free_port()
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'browser.db'}",
            "SECRET_KEY": "browser-test-secret",
            "INSTANCE_PATH": str(folder / "instance"),
            "BASE_URL": f"http://127.0.0.1:{port}",
            "ALLOWED_DOMAINS": "localhost, example.com, *.example.com",
            "UPLOAD_FOLDER": str(folder / "uploads"),
            "SPOOL_FOLDER": str(folder / "spool"),
            "RATELIMIT_ENABLED": False,
            "LINK_CACHE_SECONDS": 0.0,
        }
    )
    assert app.config.get("WTF_CSRF_ENABLED", True), "browser tests run with CSRF on"
    runtime = app.extensions["linktracker"]
    upgrade_database(runtime.engine)
    users = dict(USERS)
    with runtime.sessions() as session:
        load_demo_data(session, runtime.settings())
        for email in USERS.values():
            user = find_user_by_email(session, email)
            assert user is not None
            set_password(session, user.id, PASSWORD)
        # The employee who signs in is the demo's printed one: an active advocate with figures.
        users["employee"] = f"{DEMO_EMPLOYEE}@example.com"
        employee = find_user_by_email(session, users["employee"])
        assert employee is not None
        set_password(session, employee.id, PASSWORD)
        imports = _seed_crm(session, str(folder / "uploads"), runtime.secret)
    server = make_server("127.0.0.1", port, app, threaded=True)
    threads = [_serve(landing), _serve(server)]
    yield LiveServer(
        f"http://127.0.0.1:{port}",
        f"http://localhost:{landing.server_port}",
        app,
        users,
        imports,
    )
    for srv in (server, landing):
        srv.shutdown()
        srv.server_close()
    for thread in threads:
        thread.join(5)
    runtime.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(
        viewport=DESKTOP,
        user_agent=DESKTOP_UA,
        accept_downloads=True,
        permissions=["clipboard-read", "clipboard-write"],
    )
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(name="sign_in")
def sign_in_fixture(live_server: LiveServer) -> SignIn:
    """``sign_in(page, role)``: sign in through the form, as a person would."""

    def sign_in(page: Page, role: str) -> None:
        page.goto(f"{live_server.url}/app/login")
        page.get_by_label("Email").fill(live_server.users[role])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/app/login" not in url)

    return sign_in


@pytest.fixture(scope="session")
def screenshots_folder(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """docs/screenshots/ with --update-screenshots; otherwise a temporary folder."""
    if request.config.getoption("--update-screenshots"):
        return DOCS_SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def screenshot(screenshots_folder: Path) -> Screenshot:
    """Save a page as a PNG named ``name`` into the screenshots folder."""

    def save(page: Page, name: str, *, full_page: bool = True) -> Path:
        screenshots_folder.mkdir(parents=True, exist_ok=True)
        path = screenshots_folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save
