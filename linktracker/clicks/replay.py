"""When a serving process replays spooled clicks: its own at once, everyone's on a timer.

The click writer asks after each insert (the database answers) and whenever it has been idle
for idle_seconds(): this process's own spool is replayed as soon as the database may take it
again, and every replay_seconds the files left behind by killed processes (spool files and
journals) too, whether or not new clicks arrive. The replay runs on a thread of its own so
new clicks are not held up behind it.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from linktracker.clicks.spool import is_journal, replay_spool
from linktracker.clicks.spooler import Spooler
from linktracker.config import DEFAULTS

log = logging.getLogger(__name__)

# How often a process looks for clicks to replay (spool files, journals left behind by killed
# processes), whether or not new clicks arrive: its writer thread wakes up for it when idle.
REPLAY_SECONDS = float(DEFAULTS["CLICK_REPLAY_SECONDS"][0])  # the setting's default


class ReplayTimer:
    """Decides when this process replays the spool, and replays it off the writer's thread."""

    def __init__(
        self, engine: Engine, spooler: Spooler, replay_seconds: float = REPLAY_SECONDS
    ) -> None:
        self.engine = engine
        self.spooler = spooler
        self.replay_seconds = replay_seconds
        self._next_orphan_check = 0.0
        self._idle_replay_after = 0.0  # after a failed replay: not before this when idle
        self._draining = False

    def idle_seconds(self, database_back_at: float) -> float:
        """How long the writer waits for a click before it looks for clicks to replay."""
        due = max(self._next_orphan_check, self._idle_replay_after)
        if self.spooler.holding:  # ours: as soon as the database may answer again
            due = min(due, database_back_at)
        return min(self.replay_seconds, max(due - time.monotonic(), 0.1))

    def replay_when_due(self, database_back_at: float, *, idle: bool = False) -> None:
        """After an insert or when idle: start a replay if one is due and may succeed."""
        now = time.monotonic()
        if self._draining or not (self.spooler.holding or now >= self._next_orphan_check):
            return
        if now < database_back_at:
            return  # the database failed a moment ago
        if idle and not self.spooler.holding and now < self._idle_replay_after:
            return  # the last replay failed: the next insert (the database is back) retries
        self._next_orphan_check = now + self.replay_seconds
        pid = os.getpid()  # our own live journals are not leftovers
        leftovers = [p for p in self.spooler.spool.pending_files() if not is_journal(p, pid)]
        if not self.spooler.holding and not leftovers:
            return
        self._draining = True
        threading.Thread(target=self._drain, name="click-replay", daemon=True).start()

    def replay_on_close(self) -> None:
        """A clean shutdown hands its spool straight to the database when it can."""
        if not self.spooler.hand_over():
            return
        try:
            replay_spool(self.engine, self.spooler.folder)
        except DBAPIError:
            log.warning("spooled clicks kept for a later replay", exc_info=True)

    def _drain(self) -> None:
        try:
            self.spooler.hand_over()  # replay takes only files nobody holds
            result = replay_spool(self.engine, self.spooler.folder)
            if result.rows:
                log.warning("replayed %d spooled click(s), %d new", result.rows, result.inserted)
        except Exception:  # noqa: BLE001 - a failed replay is retried later
            log.warning("spool replay failed; it will be retried", exc_info=True)
            self._next_orphan_check = 0.0
            self._idle_replay_after = time.monotonic() + self.replay_seconds
        finally:
            self._draining = False
