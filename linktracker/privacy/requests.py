"""A customer asks: every CRM record and kept raw-upload line for an address, found,
exported or erased, each request noted in the audit log by the address's keyed hash.

Records store the address as a keyed hash (or in clear with CRM_KEEP_EMAILS), so they are
matched on both. Raw uploads keep the file as uploaded: each kept file is read with the
encoding its import detected and searched line by line (physical lines, numbered from 1).
Erasing deletes the records, rewrites each raw upload without the lines holding the address
(a new private file, synced, then renamed over the old one) and strips the address from
rejected rows; imports and their counts stay. Reports count records live, so they follow.
"""

from __future__ import annotations

import os
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Text, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from linktracker.crm.models import CrmImport, CrmImportError, CrmRecord
from linktracker.crm.parsing import WORKBOOK_ENCODING, UnreadableExport, csv_view
from linktracker.crm.parsing.values import normalise_email
from linktracker.crm.record_values import email_hasher, email_key
from linktracker.db import utcnow
from linktracker.errors import Conflict, InvalidInput
from linktracker.privacy.models import PrivacyRequest
from linktracker.recruiting.imports import candidate_hasher
from linktracker.recruiting.models import Application

_ADDRESS: Final = re.compile(r"[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[^@\s<>,;\"']+")
_FALLBACK_ENCODING: Final = "utf-8-sig"


@dataclass(frozen=True)
class RawLine:
    import_id: int
    line: int
    text: str


@dataclass(frozen=True)
class Findings:
    email: str
    email_hash: str
    records: tuple[CrmRecord, ...]
    raw_lines: tuple[RawLine, ...]
    row_errors: tuple[CrmImportError, ...]
    # kept raw files, by path inside the upload folder: (import ids, encoding, lines found)
    files: dict[str, tuple[tuple[int, ...], str, tuple[int, ...]]] = field(default_factory=dict)
    # ATS applications of this candidate (found by the candidate's keyed hash)
    applications: tuple[Application, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.records or self.raw_lines or self.row_errors or self.applications)


@dataclass(frozen=True)
class Erased:
    records: int
    raw_lines: int
    raw_files: int
    row_errors: int
    applications: int = 0


def normalise_address(text: str) -> str:
    """The address as imports store it (stripped, lowercased), or InvalidInput."""
    cleaned = text.strip()
    email = normalise_email(cleaned) if cleaned else None
    if email is None or email != cleaned.lower() or not _ADDRESS.fullmatch(email):
        raise InvalidInput(
            f"{text.strip()[:80]!r} is not an email address: give one address, "
            "e.g. ana@example.com.",
            {"email": "Not an email address."},
        )
    return email


def hash_address(email: str, secret: bytes) -> str:
    """The keyed hash CRM records keep instead of the address."""
    return email_hasher(email_key(secret))(email)


def find(
    session: Session, email: str, *, secret: bytes, upload_folder: str | os.PathLike[str]
) -> Findings:
    """Every record, kept raw line and rejected row that holds ``email``."""
    email = normalise_address(email)
    hashed = hash_address(email, secret)
    records = session.scalars(
        select(CrmRecord)
        .where(or_(CrmRecord.email == hashed, func.lower(CrmRecord.email) == email))
        .order_by(CrmRecord.id)
    ).all()
    pattern = _pattern(email)
    candidates = session.scalars(
        select(CrmImportError)
        .where(func.lower(cast(CrmImportError.raw, Text)).contains(email, autoescape=True))
        .order_by(CrmImportError.id)
    ).all()
    row_errors = [e for e in candidates if pattern.search(" ".join(map(str, e.raw or ())))]
    files: dict[str, tuple[tuple[int, ...], str, tuple[int, ...]]] = {}
    raw_lines: list[RawLine] = []
    for path, (ids, encoding) in _kept_files(session).items():
        lines = _lines_with(Path(upload_folder) / path, encoding, pattern)
        if lines:
            files[path] = (ids, encoding, tuple(number for number, _ in lines))
            raw_lines += [RawLine(i, number, text) for i in ids for number, text in lines]
    raw_lines.sort(key=lambda r: (r.import_id, r.line))
    candidate = candidate_hasher(secret)(email)
    applications = session.scalars(
        select(Application).where(Application.candidate == candidate).order_by(Application.id)
    ).all()
    return Findings(
        email,
        hashed,
        tuple(records),
        tuple(raw_lines),
        tuple(row_errors),
        files,
        tuple(applications),
    )


def export(findings: Findings) -> dict[str, Any]:
    """The findings as JSON-ready data: records with every stored field, raw lines."""
    return {
        "email": findings.email,
        "records": [_record(r) for r in findings.records],
        "applications": [_record(a) for a in findings.applications],
        "raw_upload_lines": [
            {"import_id": r.import_id, "line": r.line, "text": r.text} for r in findings.raw_lines
        ],
        "rejected_rows": [
            {"import_id": e.import_id, "line": e.line, "reason": e.reason, "values": e.raw}
            for e in findings.row_errors
        ],
    }


def erase(session: Session, findings: Findings, *, upload_folder: str | os.PathLike[str]) -> Erased:
    """Delete the records, rewrite the raw uploads without the lines, strip rejected rows.

    Files first: a crash in between leaves hashed records that erasing again deletes,
    never an address in a file that the database says is gone.
    """
    holding = [i for ids, _, _ in findings.files.values() for i in ids]
    unfinished = session.scalars(
        select(CrmImport.id)
        .where(CrmImport.id.in_(holding), CrmImport.state.in_(("running", "failed")))
        .order_by(CrmImport.id)
    ).all()
    if unfinished:
        # Their reading resumes by line number: lines removed underneath would shift it.
        names = ", ".join(str(i) for i in unfinished)
        raise Conflict(
            f"Import(s) {names} hold this address and have not finished: wait for them, or "
            "run them again, then erase. Nothing was erased."
        )
    lines = 0
    for path, (holders, encoding, numbers) in findings.files.items():
        if encoding == WORKBOOK_ENCODING:
            # A workbook is not rewritten row by row: the raw upload goes whole, as retention
            # deletes it (the imports keep their records, counts and rejected rows).
            (Path(upload_folder) / path).unlink(missing_ok=True)
            session.execute(
                update(CrmImport).where(CrmImport.id.in_(holders)).values(raw_deleted_at=utcnow())
            )
        else:
            _rewrite_without(Path(upload_folder) / path, encoding, set(numbers))
        lines += len(numbers)
    ids = [r.id for r in findings.records]
    for start in range(0, len(ids), 500):
        session.execute(delete(CrmRecord).where(CrmRecord.id.in_(ids[start : start + 500])))
    applications = [a.id for a in findings.applications]
    for start in range(0, len(applications), 500):
        chunk = applications[start : start + 500]
        session.execute(delete(Application).where(Application.id.in_(chunk)))
    for error in findings.row_errors:
        error.raw = None
        error.reason = _pattern(findings.email).sub("[erased]", error.reason)
    return Erased(len(ids), lines, len(findings.files), len(findings.row_errors), len(applications))


def log_request(
    session: Session,
    kind: str,
    findings: Findings,
    *,
    actor_user_id: int | None,
    erased: Erased | None = None,
) -> PrivacyRequest:
    """Note the request in the audit log (and commit): its kind, the hash and the counts."""
    entry = PrivacyRequest(
        kind=kind,
        email_hash=findings.email_hash,
        # CRM records and ATS applications together (the log has one column for both)
        records=(
            erased.records + erased.applications
            if erased
            else len(findings.records) + len(findings.applications)
        ),
        raw_lines=erased.raw_lines if erased else len(findings.raw_lines),
        raw_files=erased.raw_files if erased else len(findings.files),
        row_errors=erased.row_errors if erased else len(findings.row_errors),
        actor_user_id=actor_user_id,
    )
    session.add(entry)
    session.commit()
    return entry


def audit_log(session: Session, *, limit: int = 100) -> list[PrivacyRequest]:
    return list(
        session.scalars(
            select(PrivacyRequest).order_by(PrivacyRequest.id.desc()).limit(limit)
        ).all()
    )


def _pattern(email: str) -> re.Pattern[str]:
    # The whole address: ana@example.com is not found inside joana@example.com.
    return re.compile(
        r"(?<![A-Za-z0-9._%+-])" + re.escape(email) + r"(?![A-Za-z0-9_-]|\.[A-Za-z0-9])",
        re.IGNORECASE,
    )


def _kept_files(session: Session) -> dict[str, tuple[tuple[int, ...], str]]:
    """Raw files retention kept: path -> (imports that keep it, encoding to read it with)."""
    kept: dict[str, list[int]] = defaultdict(list)
    encodings: dict[str, str] = {}
    rows = session.execute(
        select(CrmImport.id, CrmImport.storage_path, CrmImport.encoding)
        .where(CrmImport.raw_deleted_at.is_(None))
        .order_by(CrmImport.id)
    )
    for import_id, path, encoding in rows:
        kept[path].append(import_id)
        encodings.setdefault(path, encoding or _FALLBACK_ENCODING)
    return {path: (tuple(ids), encodings[path]) for path, ids in kept.items()}


def _read(path: Path, encoding: str) -> list[str] | None:
    if encoding == WORKBOOK_ENCODING:
        return _workbook_lines(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        text = data.decode(encoding, "surrogateescape")
    except (LookupError, UnicodeDecodeError):
        text = data.decode(_FALLBACK_ENCODING, "surrogateescape")
    return text.split("\n")


def _workbook_lines(path: Path) -> list[str] | None:
    """Every sheet of a workbook upload as CSV lines, one sheet after the other.

    A workbook cannot be rewritten without some of its lines (erasing deletes it whole), so
    the line numbers only count where the address was found.
    """
    try:
        stream = path.open("rb")
    except FileNotFoundError:
        return None
    lines: list[str] = []
    with stream:
        try:
            with csv_view(stream, folder=path.parent) as view:
                sheets = view.workbook.sheets if view.workbook else ()
            for sheet in sheets:
                stream.seek(0)
                with csv_view(stream, sheet=sheet, folder=path.parent) as view:
                    lines += view.stream.read().decode("utf-8", "replace").split("\n")
        except UnreadableExport:
            stream.seek(0)
            return stream.read().decode(_FALLBACK_ENCODING, "surrogateescape").split("\n")
    return lines


def _lines_with(path: Path, encoding: str, pattern: re.Pattern[str]) -> list[tuple[int, str]]:
    lines = _read(path, encoding)
    if lines is None:
        return []
    return [
        (number, text.rstrip("\r"))
        for number, text in enumerate(lines, start=1)
        if pattern.search(text)
    ]


def _rewrite_without(path: Path, encoding: str, numbers: set[int]) -> None:
    """The file without the given lines: written beside it, synced, renamed over it (0600)."""
    lines = _read(path, encoding)
    if lines is None:
        return
    kept = "\n".join(text for number, text in enumerate(lines, start=1) if number not in numbers)
    try:
        data = kept.encode(encoding, "surrogateescape")
    except (LookupError, UnicodeEncodeError):
        data = kept.encode(_FALLBACK_ENCODING, "surrogateescape")
    temporary = path.with_name(f"{path.name}.{secrets.token_hex(4)}.part")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _record(record: CrmRecord | Application) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column in type(record).__table__.columns:
        value = getattr(record, column.key)
        if isinstance(value, Decimal):
            value = str(value)
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        values[column.key] = value
    return values
