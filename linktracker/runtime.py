"""What a running app holds: engines, sessions, settings and the link cache."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from linktracker.clicks.recorder import ClickRecorder
from linktracker.clicks.webhook_events import ClickEvents
from linktracker.config import AppConfig
from linktracker.db import make_engine, make_session_factory
from linktracker.links.services import LinkTarget, find_link_target
from linktracker.settings.services import ProgramSettings, defaults_from_config, load_settings
from linktracker.webhooks.deliverer import WebhookDeliverer

# The click writer waits this long for SQLite's write lock before spooling the batch, so a
# locked database still lets redirects answer within the recorder's WAIT_SECONDS.
CLICK_BUSY_TIMEOUT_MS = 40
# Connecting to an unreachable PostgreSQL fails after this long (libpq's minimum), and a
# click insert waiting on a lock (LOCK TABLE, a long migration) gives up and spools.
CLICK_CONNECT_TIMEOUT_S = 2
CLICK_LOCK_TIMEOUT_MS = 40
SETTINGS_TTL = 10.0

log = logging.getLogger(__name__)


class LinkCache:
    """Code -> LinkTarget for a few seconds, so a redirect usually costs no lookup query."""

    def __init__(self, engine: Engine, ttl: float) -> None:
        self.engine = engine
        self.ttl = ttl
        self._entries: dict[str, tuple[float, LinkTarget | None]] = {}

    def get(self, code: str) -> LinkTarget | None:
        """The target of a code (None when unknown); stale rather than nothing in an outage."""
        now = time.monotonic()
        entry = self._entries.get(code)
        if entry is not None and entry[0] > now:
            return entry[1]
        try:
            with self.engine.connect() as connection:
                target = find_link_target(connection, code)
        except DBAPIError:
            if entry is None:
                raise
            log.warning("link lookup failed, serving the cached target of %s", code)
            return entry[1]
        if len(self._entries) > 100_000:
            self._entries.clear()
        self._entries[code] = (now + self.ttl, target)
        return target

    def forget(self, code: str | None = None) -> None:
        """Drop one code (or everything) after a change made by this process."""
        if code is None:
            self._entries.clear()
        else:
            self._entries.pop(code, None)


def click_url(url: str) -> str:
    """The database URL for the redirect's own engine: PostgreSQL gives up waiting fast."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    limits = {
        "connect_timeout": str(CLICK_CONNECT_TIMEOUT_S),
        "options": f"-c lock_timeout={CLICK_LOCK_TIMEOUT_MS}",
    }
    missing = {key: value for key, value in limits.items() if key not in parsed.query}
    return parsed.update_query_dict(missing).render_as_string(hide_password=False)


class Runtime:
    """Holds the engine, session factory, click recorder and caches of one app."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = AppConfig(config)
        url = self.config.database_url
        self.engine = make_engine(url, echo=self.config.sql_echo)
        self.click_engine = make_engine(click_url(url), busy_timeout_ms=CLICK_BUSY_TIMEOUT_MS)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)
        self.secret = self.config.secret_key.encode()
        self.recorder = ClickRecorder(
            self.click_engine,
            self.secret,
            self.config.spool_folder,
            durability=self.config.click_durability,
            replay_seconds=self.config.click_replay_seconds,
        )
        # click.created events are made from the stored clicks by each delivery round.
        self.click_events = ClickEvents(self.sessions)
        self.deliverer = WebhookDeliverer(
            self.sessions,
            allow_private=self.config.webhook_allow_private,
            timeout=self.config.webhook_timeout_seconds,
            before_round=self.click_events.queue,
        )
        self.links = LinkCache(self.click_engine, self.config.link_cache_seconds)
        self.defaults = defaults_from_config(config)
        self._settings: tuple[float, ProgramSettings] | None = None
        self._settings_lock = threading.Lock()

    def settings(self) -> ProgramSettings:
        """Effective program settings, re-read at most every few seconds."""
        cached = self._settings
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            with self._settings_lock, self.sessions() as session:
                settings = load_settings(session, self.defaults)
        except DBAPIError:
            if cached is None:
                raise
            # Redirects keep working through an outage with the settings they had.
            settings = cached[1]
        self._settings = (time.monotonic() + SETTINGS_TTL, settings)
        return settings

    def settings_changed(self) -> None:
        """Forget cached settings after an admin saved new ones."""
        self._settings = None

    def start_serving(self) -> None:
        """In a serving process: start the click writer (it also replays on a timer) and,
        unless WEBHOOK_DELIVERY is off, the webhook delivery thread."""
        self.recorder.start()
        if self.config.webhook_delivery:
            self.deliverer.start()

    def dispose(self) -> None:
        """Stop the click writer (after it stored what is queued), close pooled connections."""
        self.recorder.close()
        self.deliverer.stop()
        self.engine.dispose()
        self.click_engine.dispose()
