"""The serving process's delivery thread: sends what is due, then rests, longer after a round
that took much CPU, so that it never takes more than a small share of a core."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from linktracker.webhooks.services import deliver_due

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
# The most of one core's time a serving process's delivery thread takes, on average: after a
# round that used t seconds of CPU it rests at least t * (1 / share - 1). Under a click storm
# the events wait a little longer instead of taking CPU from the redirects; 5 % of a core still
# turns ~1,700 stored clicks a second into events and sends them (bench/webhook_cost.py).
CPU_SHARE = 0.05


def rest_after(cpu_seconds: float, poll_seconds: float, share: float = CPU_SHARE) -> float:
    """How long the delivery thread waits after a round that used ``cpu_seconds`` of CPU."""
    return max(poll_seconds, cpu_seconds * (1 / share - 1))


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
            started = time.thread_time()
            if self.before_round is not None:
                self.before_round()
            try:
                deliver_due(self.sessions, allow_private=self.allow_private, timeout=self.timeout)
            except Exception:  # noqa: BLE001 - the thread must outlive a database outage
                log.exception("webhook delivery round failed; trying again shortly")
            self._stop.wait(rest_after(time.thread_time() - started, self.poll_seconds))
