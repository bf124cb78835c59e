"""The serving process's delivery thread: sends what is due, then sleeps a moment."""

from __future__ import annotations

import logging
import os
import threading

from sqlalchemy.orm import Session, sessionmaker

from linktracker.webhooks.click_events import ClickEvents
from linktracker.webhooks.services import deliver_due

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0


class WebhookDeliverer:
    """A daemon thread per process calling deliver_due; row claims keep senders apart."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        allow_private: bool,
        timeout: float,
        click_events: ClickEvents | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.click_events = click_events
        self.allow_private = allow_private
        self.timeout = timeout
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def running(self) -> bool:
        """Whether this process's delivery thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive() and self._pid == os.getpid()

    def start(self) -> None:
        """Start this process's delivery thread unless it runs."""
        if self.running():
            return
        self._stop = threading.Event()
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="webhook-deliverer", daemon=True)
        if self.click_events is not None:
            self.click_events.deferred = True  # this thread queues the writer's clicks
        self._thread.start()

    def stop(self) -> None:
        """Stop after the attempt in progress (waiting for it at most a few seconds)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and self.running():
            thread.join(timeout=self.timeout + 2)
        if self.click_events is not None:
            self.click_events.deferred = False
            self.click_events.flush()  # what the writer handed over last is queued, not lost

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.click_events is not None:
                self.click_events.flush()
            try:
                deliver_due(self.sessions, allow_private=self.allow_private, timeout=self.timeout)
            except Exception:  # noqa: BLE001 - the thread must outlive a database outage
                log.exception("webhook delivery round failed; trying again shortly")
            self._stop.wait(self.poll_seconds)
