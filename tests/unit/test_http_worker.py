"""How much of a request the worker's event loop reads before a thread takes it."""

from __future__ import annotations

import pytest

from linktracker.http_worker import BODY_BUFFER_BYTES, request_bytes_wanted

POST = b"POST /app/login HTTP/1.1\r\nHost: x\r\n"


@pytest.mark.parametrize(
    ("head", "body", "body_wanted"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"", 0),
        (POST + b"Content-Length: 10\r\n\r\n", b"", 10),
        (POST + b"content-length:10 \r\n\r\n", b"abc", 10),
        (POST + b"Content-Length: %d\r\n\r\n" % BODY_BUFFER_BYTES, b"", BODY_BUFFER_BYTES),
        # Read by the thread: a large body, a chunked one, one sent after "100 Continue", or
        # framing the parser refuses.
        (POST + b"Content-Length: %d\r\n\r\n" % (BODY_BUFFER_BYTES + 1), b"", 0),
        (POST + b"Transfer-Encoding: chunked\r\n\r\n", b"", 0),
        (POST + b"Content-Length: 10\r\nExpect: 100-continue\r\n\r\n", b"", 0),
        (POST + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n", b"", 0),
    ],
)
def test_the_head_and_a_small_body_are_read_first(
    head: bytes, body: bytes, body_wanted: int
) -> None:
    assert request_bytes_wanted(head + body) == len(head) + body_wanted


@pytest.mark.parametrize("data", [b"", b"GET / HTTP/1.1\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n"])
def test_nothing_goes_to_a_thread_before_the_head_is_over(data: bytes) -> None:
    assert request_bytes_wanted(data) is None
