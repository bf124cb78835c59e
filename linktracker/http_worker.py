"""gunicorn's threaded worker, with each request read by the worker's event loop first.

gunicorn's gthread worker hands a connection to a thread as soon as it is readable, and the
thread then blocks until the whole request head has arrived, with no time limit: a handful
of clients sending their headers a line at a time (or connecting and sending nothing) held
every thread, and every redirect waited. Here the worker's event loop reads the request head,
and a small body of declared length, without blocking; only a complete request reaches a
thread. A request that is not complete within REQUEST_READ_SECONDS of its first wait is
dropped. A larger body (a CRM upload) is read by the thread as the app asks for it; behind
a reverse proxy, which buffers whole requests, threads never wait on a client at all.
"""

from __future__ import annotations

import re
import selectors
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

# Longest a request (its head and a small body) may take to arrive, from the moment the
# worker starts waiting for it: after a new connection, or a kept-alive one turned readable.
REQUEST_READ_SECONDS = 10.0
# Bodies up to this size (declared with Content-Length) are read before a thread takes the
# request: sign-ins, forms and API calls. Larger ones are read by the thread as the app asks.
BODY_BUFFER_BYTES = 64 * 1024
RECV_BYTES = 64 * 1024

_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*(\d+)[ \t]*(?=\r\n)", re.IGNORECASE)
# A chunked body, or one the client sends only after "100 Continue" (which the thread sends).
_THREAD_READS_BODY = re.compile(rb"\r\n(?:transfer-encoding|expect)[ \t]*:", re.IGNORECASE)


def request_bytes_wanted(data: bytes) -> int | None:
    """How many bytes the request at the start of ``data`` needs before a thread takes it.

    None while its head is incomplete; the head alone when its body is chunked, large, or
    waits for "100 Continue".
    """
    end = data.find(_HEAD_END)
    if end < 0:
        return None
    head_length = end + len(_HEAD_END)
    head = b"\r\n" + data[:head_length]
    if _THREAD_READS_BODY.search(head):
        return head_length
    lengths = _CONTENT_LENGTH.findall(head)
    if len(lengths) != 1 or int(lengths[0]) > BODY_BUFFER_BYTES:
        return head_length  # no body, or one the parser refuses, or one read by the thread
    return head_length + int(lengths[0])


class BufferedThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gthread whose threads only ever get complete requests (see the module docstring)."""

    def init_process(self) -> None:
        # (deadline, connection, which request of the connection) in deadline order
        self._reading: deque[tuple[float, Any, int]] = deque()
        self._plain = not self.cfg.is_ssl  # TLS is not `linktracker run`'s: gunicorn's own way
        self._head_limit = (
            self.cfg.limit_request_line
            + self.cfg.limit_request_fields * (self.cfg.limit_request_field_size + 2)
            + len(_HEAD_END)
        )
        super().init_process()

    def enqueue_req(self, conn: Any) -> None:
        if not self._plain or conn.is_http2:
            super().enqueue_req(conn)
            return
        if not hasattr(conn, "buffered"):  # a new connection (non-blocking already)
            conn.buffered = b""
            conn.request_number = 0
        if conn.parser is not None and conn.parser.unreader.buf.getbuffer().nbytes:
            # a request pipelined behind the previous one
            conn.buffered += conn.parser.unreader.take_buffered()
            conn.sock.setblocking(False)
        conn.request_number += 1
        if self._read(conn):
            return
        deadline = time.monotonic() + REQUEST_READ_SECONDS
        self._reading.append((deadline, conn, conn.request_number))
        conn.reading = True
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: Any, _sock: Any) -> None:
        self._read(conn, registered=True)

    def _read(self, conn: Any, *, registered: bool = False) -> bool:
        """Read what the client has sent; True once the request went on (or was dropped)."""
        wanted = request_bytes_wanted(conn.buffered)
        gone = False
        while wanted is None or len(conn.buffered) < wanted:
            if wanted is None and len(conn.buffered) > self._head_limit:
                break  # a head over gunicorn's limits: its parser answers it with an error
            try:
                data = conn.sock.recv(RECV_BYTES)
            except BlockingIOError:
                return False
            except OSError:
                data = b""
            if not data:  # the client went away (or reset) before its request was complete
                gone = True
                break
            conn.buffered += data
            wanted = request_bytes_wanted(conn.buffered)
        if registered:
            self.poller.unregister(conn.sock)
            conn.reading = False
        if gone:
            self.nr_conns -= 1
            conn.close()
        else:
            conn.data_ready = True  # gthread would otherwise wait for data in the thread
            super().enqueue_req(conn)
        return True

    def handle(self, conn: Any) -> Any:
        buffered, conn.buffered = conn.buffered, b""
        if buffered:
            conn.init()
            conn.parser.unreader.unread(buffered)
        return super().handle(conn)

    def _drop(self, conn: Any) -> None:
        self.poller.unregister(conn.sock)
        conn.reading = False
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        while self._reading:
            deadline, conn, number = self._reading[0]
            current = getattr(conn, "reading", False) and conn.request_number == number
            if current and deadline > now and (self.alive or conn.buffered):
                break  # a stopping worker does not wait for requests nobody has begun
            self._reading.popleft()
            if current:
                self._drop(conn)
