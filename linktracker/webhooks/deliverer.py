"""The serving process's delivery thread: sends what is due, then sleeps a moment."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

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
        before_round: Callable[[], object] | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.sessions = sessions
        # Called at the start of each round (the click.created events of stored clicks).
        self.before_round = before_round
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
        self._thread.start()

    def stop(self) -> None:
        """Stop after the attempt in progress (waiting for it at most a few seconds)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and self.running():
            thread.join(timeout=self.timeout + 2)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.before_round is not None:
                self.before_round()
            try:
                deliver_due(self.sessions, allow_private=self.allow_private, timeout=self.timeout)
            except Exception:  # noqa: BLE001 - the thread must outlive a database outage
                log.exception("webhook delivery round failed; trying again shortly")
            self._stop.wait(self.poll_seconds)
