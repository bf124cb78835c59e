"""Downloads: headers that survive any filename, CSV streamed from a session of its own, and
an import's raw and rejected-rows files (the same for the API and the pages)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flask import Response, send_file
from sqlalchemy.orm import Session

from linktracker.crm.services import get_import, iter_rejected_rows_csv, raw_upload
from linktracker.web.context import db, runtime


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

    def with_bom(session: Session) -> Iterator[str]:
        if bom:  # so spreadsheet programs read the UTF-8 correctly; the importer skips it
            yield "\ufeff"
        yield from chunks(session)

    return streamed(with_bom, "text/csv", filename)


def streamed(
    chunks: Callable[[Session], Iterator[str]], mimetype: str, filename: str | None = None
) -> Response:
    """A body read from the database while it is sent, in a session of its own (see
    streamed_csv); an attachment when given a file name."""
    session = runtime().sessions()

    def body() -> Iterator[str]:
        try:
            yield from chunks(session)
        finally:
            session.close()

    response = Response(body(), mimetype=mimetype)
    if filename is not None:
        response.headers["Content-Disposition"] = attachment(filename)
    response.call_on_close(session.close)
    return response


def raw_import_file(import_id: int) -> Response:
    """An import's upload exactly as it came, with its SHA-256 as the ETag."""
    raw = raw_upload(db(), import_id, upload_folder=runtime().config.upload_folder)
    return send_file(
        raw.path,
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=raw.filename,
        etag=raw.sha256,
    )


def rejected_rows_file(import_id: int) -> Response:
    """An import's rejected rows as CSV (UTF-8 with a BOM), named after the upload."""
    summary = get_import(db(), import_id, error_limit=0)
    stem = summary.filename.rsplit(".", 1)[0] or "import"
    return streamed_csv(
        lambda session: iter_rejected_rows_csv(session, import_id),
        f"{stem}-rejected.csv",
        bom=True,
    )
