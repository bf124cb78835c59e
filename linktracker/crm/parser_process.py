"""An import's rows parsed in a process of their own, handed to the importing one in batches.

Parsing a row is pure Python (most of an import's CPU, with its content hash), and one process
runs one thread of Python at a time: parsing beside the writer in one process, the import
was bound by the two taking turns. In a child process the parsing runs on the other core
while the importing process only compares content hashes and writes.

``parsing_processes`` starts as many such children as the importing process asks for (one
per core, up to two): each reads the whole file, splits every row, and converts only its
share of the batches, dealt out in turn, so the batches still arrive in file order.

The child is ``python -m linktracker.crm.parser_process``: it reads one pickled
:class:`ParseJob` from stdin and writes pickled :class:`Batch` es to stdout, then ``None``,
or a :class:`_Failure` if it failed. A thread of the importing process receives them into
a short queue, so the child may parse a few batches ahead and is not stalled when a write
takes longer (a checkpoint); memory stays at those few batches. The parent stopping early
(a write failed) kills the child; it only ever reads the file.
"""

from __future__ import annotations

import gc
import itertools
import os
import pickle
import queue
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from typing import IO, Final

from linktracker.crm.batches import Batch, cut_batches
from linktracker.crm.parsing import ExportRows
from linktracker.crm.record_values import value_builder

_PROTOCOL: Final = pickle.HIGHEST_PROTOCOL
AHEAD: Final = 3  # batches received and not yet written, at most, from all processes


@dataclass(frozen=True)
class ParseJob:
    """What the parsing process reads, and how it builds its rows."""

    path: str  # the stored upload
    rows: ExportRows  # as inspected by the importing process
    done: int  # the committed progress line: rows up to it are skipped
    batch_size: int
    email_key: bytes | None  # None keeps emails in clear
    part: int = 0  # this process converts batches part, part + parts, … (cut_batches)
    parts: int = 1


class ParserProcessFailed(RuntimeError):
    """The parsing process ended without finishing and without saying why."""


@dataclass(frozen=True)
class _Failure:
    """An exception raised in the parsing process, to raise again in the importing one."""

    pickled: bytes | None  # the exception itself, when it pickles
    description: str  # "Type: message", and the child's traceback

    def exception(self) -> BaseException:
        if self.pickled is not None:
            try:
                exc: BaseException = pickle.loads(self.pickled)
                return exc
            except Exception:  # an exception class that cannot be rebuilt from its args
                pass
        return ParserProcessFailed(f"The parsing process failed: {self.description}")

    @classmethod
    def of(cls, exc: BaseException) -> _Failure:
        try:
            pickled: bytes | None = pickle.dumps(exc, _PROTOCOL)
        except Exception:
            pickled = None
        description = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return cls(pickled, description)


@dataclass(frozen=True)
class _Ended:
    """The parsing process's output ended, or broke, before its final ``None``."""

    problem: str  # what reading it raised


_Message = Batch | _Failure | _Ended | None


@contextmanager
def parsing_processes(job: ParseJob, processes: int) -> Iterator[Iterator[Batch]]:
    """Start ``processes`` parsing processes sharing ``job``; yield their batches in order.

    Each process reads the whole file but converts only every ``processes``-th batch
    (splitting rows costs a tenth of converting them), so the parsing runs on as many cores
    while the batches still arrive, and are committed, in file order.
    """
    if processes == 1:
        with parsing_process(job) as batches:
            yield batches
        return
    ahead = max(1, AHEAD // processes)
    with ExitStack() as stack:
        parts = [
            stack.enter_context(parsing_process(replace(job, part=part, parts=processes), ahead))
            for part in range(processes)
        ]
        yield _dealt(parts)


def _dealt(parts: list[Iterator[Batch]]) -> Iterator[Batch]:
    """Batches taken from each part in turn, until the one whose turn it is has ended."""
    for batches in itertools.cycle(parts):
        batch = next(batches, None)
        if batch is None:
            break
        yield batch
    for batches in parts:  # the others end there too, or say why they failed
        for _ in batches:
            raise ParserProcessFailed("The import's parsing processes disagree on the batches.")


@contextmanager
def parsing_process(job: ParseJob, ahead: int = AHEAD) -> Iterator[Iterator[Batch]]:
    """Start the parsing process for ``job``; yield its batches as they come.

    Up to ``ahead`` batches wait received (plus what the pipe holds) while one is written.
    """
    # The child finds the package where this process found it (an editable install,
    # a bench script's path).
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    process = subprocess.Popen(
        [sys.executable, "-m", __name__],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    assert process.stdin is not None and process.stdout is not None
    inbox: queue.Queue[_Message] = queue.Queue(maxsize=ahead)
    stop = threading.Event()
    receiver = threading.Thread(
        target=_receive, args=(process.stdout, inbox, stop), name="crm-import-receiver"
    )
    try:
        try:
            pickle.dump(job, process.stdin, _PROTOCOL)
            process.stdin.close()
        except BrokenPipeError:
            pass  # the child died at once: its output says how
        receiver.start()
        yield _batches(process, inbox)
    finally:
        stop.set()
        if process.poll() is None:
            process.kill()  # the receiver's read ends with the pipe
        if receiver.is_alive():
            receiver.join()
        process.stdout.close()
        process.wait()


def _receive(stream: IO[bytes], inbox: queue.Queue[_Message], stop: threading.Event) -> None:
    """Move the child's messages into ``inbox`` until the last one or ``stop``."""
    while True:
        message: _Message
        try:
            message = pickle.load(stream)
        except EOFError:
            message = _Ended("")
        except Exception as exc:  # died mid-batch, or sent what cannot be read
            message = _Ended(f": {type(exc).__name__}: {exc}")
        while not stop.is_set():
            try:
                inbox.put(message, timeout=0.1)
                break
            except queue.Full:
                continue
        if stop.is_set() or not isinstance(message, Batch):
            return


def _batches(process: subprocess.Popen[bytes], inbox: queue.Queue[_Message]) -> Iterator[Batch]:
    while True:
        message = inbox.get()
        if message is None:
            return
        if isinstance(message, _Ended):
            try:
                status = process.wait(timeout=5)
            except subprocess.TimeoutExpired:  # alive, but what it sent cannot be read
                process.kill()
                status = process.wait()
            raise ParserProcessFailed(
                "The import's parsing process ended unexpectedly "
                f"(exit status {status}){message.problem}."
            )
        if isinstance(message, _Failure):
            raise message.exception()
        yield message


def _run(job: ParseJob, out: IO[bytes]) -> None:
    to_values = value_builder(job.email_key)
    with open(job.path, "rb") as stream:
        for batch in cut_batches(
            job.rows.rows(stream),
            stream,
            done=job.done,
            batch_size=job.batch_size,
            convert=job.rows.converter(),
            to_values=to_values,
            part=job.part,
            parts=job.parts,
        ):
            pickle.dump(batch, out, _PROTOCOL)
            out.flush()


def main() -> None:
    """The parsing process: a job on stdin, batches on stdout."""
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing printed by accident can corrupt the batches
    try:
        job = pickle.load(sys.stdin.buffer)
        # Rows make and drop many small objects, few of them in cycles: fewer, cheaper
        # collections, with startup's objects frozen out of them.
        gc.freeze()
        gc.set_threshold(20_000, 20, 20)
        _run(job, out)
        pickle.dump(None, out, _PROTOCOL)
        out.flush()
    except (BrokenPipeError, KeyboardInterrupt):
        os._exit(1)  # the importing process stopped reading; nobody to tell
    except BaseException as exc:
        pickle.dump(_Failure.of(exc), out, _PROTOCOL)
        out.flush()
        sys.exit(1)


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy's: a _Failure pickled here must
    # name a class the importing process can find.
    from linktracker.crm.parser_process import main as imported_main

    imported_main()
