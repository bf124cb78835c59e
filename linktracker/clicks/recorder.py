"""The one door every click goes through: database first, durable spool when it is down.

A request thread builds its Click row and decides how it becomes durable before the redirect
is answered: written to the click journal (durability "journal", the default: see
clicks/journal.py; the writer, clicks/writer.py, stores it a moment later) or stored by the
writer while the request waits (durability "commit"). If the writer has been in one batch for
longer than a request may wait (a hung database), requests spool their own rows instead of
queueing behind it (clicks/spooler.py), so a redirect never waits long and the queue stays
short. Spooled clicks are replayed on a timer (clicks/replay.py).
"""

from __future__ import annotations

import atexit
import logging
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine

from linktracker.clicks.journal import ClickJournal
from linktracker.clicks.replay import REPLAY_SECONDS, ReplayTimer
from linktracker.clicks.services import click_row
from linktracker.clicks.spool import ClickSpool
from linktracker.clicks.spooler import Spooler
from linktracker.clicks.visitor import Visitor, new_click_id
from linktracker.clicks.writer import ClickWriter
from linktracker.links.services import LinkTarget

log = logging.getLogger(__name__)

Durability = Literal["journal", "commit"]
DURABILITIES: tuple[Durability, ...] = ("journal", "commit")
# "commit": longest a redirect waits for the writer before making its click durable itself.
WAIT_SECONDS = 0.075
# "journal": after the writer has been this long in one batch, redirects spool their clicks
# (fsync'd) instead of queueing them in memory behind a hung database.
STUCK_SECONDS = 0.5


class ClickRecorder:
    """Records clicks; never raises for a database problem, never loses an answered click."""

    def __init__(
        self,
        engine: Engine,
        secret: bytes,
        spool_folder: str | Path,
        *,
        durability: Durability = "journal",
        wait_seconds: float | None = None,
        gather_seconds: float | None = None,
        replay_seconds: float = REPLAY_SECONDS,
    ) -> None:
        if durability not in DURABILITIES:
            raise ValueError(f"click durability must be one of {', '.join(DURABILITIES)}")
        self.engine = engine
        self.secret = secret
        self.spooler = Spooler(spool_folder)
        self.journal = ClickJournal(spool_folder) if durability == "journal" else None
        if wait_seconds is None:
            wait_seconds = STUCK_SECONDS if self.journal is not None else WAIT_SECONDS
        self.wait_seconds = wait_seconds
        self.replay = ReplayTimer(engine, self.spooler, replay_seconds)
        self.writer = ClickWriter(
            engine, self.spooler, self.journal, self.replay, gather_seconds=gather_seconds
        )

    @property
    def spool(self) -> ClickSpool:
        """This process's spool file, where clicks go that the database could not take."""
        return self.spooler.spool

    @property
    def gather_seconds(self) -> float:
        """How long the writer lets a batch gather under load."""
        return self.writer.gather_seconds

    @property
    def replay_seconds(self) -> float:
        """How often this process looks for clicks left behind to replay."""
        return self.replay.replay_seconds

    def record(self, target: LinkTarget, visitor: Visitor, now: datetime) -> str:
        """Make one click durable (journal, database or spool) and return its click id."""
        row = click_row(target, visitor, secret=self.secret, now=now, click_id=new_click_id())
        click_id = str(row["click_id"])
        if self.writer.stuck(self.wait_seconds):
            # The writer is stuck in a batch (a hung database): do not queue behind it.
            self.spooler.append([row])
            return click_id
        self._start_writer()
        if self.journal is not None:
            try:
                segment = self.journal.write(row)
            except OSError as exc:  # the journal's disk failed: wait for the commit instead
                log.warning("click journal unavailable (%s), waiting for the commit", exc)
            else:
                self.writer.put(row, segment)
                return click_id
        if not self.writer.put_and_wait(row, self.wait_seconds):
            log.warning("click writer slow, spooling click %s directly", click_id)
            self.spooler.append([row])
        return click_id

    def start(self) -> None:
        """Start this process's writer now rather than at its first click, so the clicks
        waiting for replay are stored even while no click comes in."""
        self._start_writer()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until the clicks recorded so far are stored; False if that took too long."""
        return self.writer.flush(timeout)

    def close(self) -> None:
        """Write what is queued, stop the writer thread, replay our spool if we can."""
        atexit.unregister(self.close)
        self.writer.stop()
        if self.journal is not None:
            self.journal.close()
        self.replay.replay_on_close()

    def _start_writer(self) -> None:
        # Started on first use in each process (threads do not survive a fork) and again
        # if it was closed.
        if self.writer.start():
            atexit.register(self.close)  # a gracefully stopped worker stores its queue first
