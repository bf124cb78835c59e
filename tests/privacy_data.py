"""A CRM sample holding one address on two lines of one import and one line of another."""

from __future__ import annotations

import socket
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.crm.models import CrmImport, CrmRecord

FIRST = (
    "Record ID,Email,Create Date,Close Date,Deal Stage,Amount\n"
    "A1,Ana.Souza@Example.com,2026-01-05,2026-02-01,Closed won,100\n"
    "A2,joana.souza@example.com,2026-01-06,,Open,\n"
    "A3,ana.souza@example.com,2026-01-07,,Open,\n"
    "A4,tom@example.com,2026-01-08,2026-03-01,Closed lost,\n"
)
SECOND = (
    "Record ID,Email,Create Date,Close Date,Deal Stage,Amount\n"
    "B1,tom@example.com,2026-02-05,,Open,\n"
    "B2,ana.souza@example.com,2026-02-06,2026-04-01,Closed won,250\n"
)


def import_text(runner: FlaskCliRunner, tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    result = runner.invoke(args=["crm", "import", str(path), "--source", "generic"])
    assert result.exit_code == 0, result.output
    assert "rejected   0" in result.output, result.output


def external_ids(session: Session) -> list[str]:
    return sorted(session.scalars(select(CrmRecord.external_id)))


def raw_texts(app: Flask, session: Session) -> dict[int, str]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return {
        i.id: (folder / i.storage_path).read_text(encoding="utf-8")
        for i in session.scalars(select(CrmImport).order_by(CrmImport.id))
    }


def import_summaries(session: Session) -> list[tuple[object, ...]]:
    return [
        (i.id, i.filename, i.state, i.rows, i.inserted, i.updated, i.rejected, i.sha256)
        for i in session.scalars(select(CrmImport).order_by(CrmImport.id))
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
