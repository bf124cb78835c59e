"""Downloads: headers that survive any filename, and CSV streamed from a session of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flask import Response
from sqlalchemy.orm import Session

from linktracker.web.context import runtime


def attachment(filename: str) -> str:
    """A Content-Disposition value; quotes, backslashes and non-ASCII become '_'."""
    safe = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f'attachment; filename="{safe}"'


def streamed_csv(
    chunks: Callable[[Session], Iterator[str]], filename: str, *, bom: bool = False
) -> Response:
    """A CSV download read page by page while it is sent.

    The body runs after the request's own session has been torn down, so it gets a session of
    its own, closed when the body ends or the response is closed, even if it was never read
    (a session left behind would hold its transaction open)."""
    session = runtime().sessions()

    def body() -> Iterator[str]:
        try:
            if bom:  # so spreadsheet programs read the UTF-8 correctly; the importer skips it
                yield "\ufeff"
            yield from chunks(session)
        finally:
            session.close()

    response = Response(body(), mimetype="text/csv")
    response.headers["Content-Disposition"] = attachment(filename)
    response.call_on_close(session.close)
    return response
