"""Storing uploads: every upload kept byte for byte, private to the service, under a size limit."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Final

from sqlalchemy.orm import Session

from linktracker.crm.import_summary import ImportSummary, summarise
from linktracker.crm.models import CrmImport
from linktracker.db import utcnow
from linktracker.errors import InvalidInput, TooLarge

CHUNK_SIZE: Final = 1 << 20  # bytes copied per read while storing an upload
_SOURCE: Final = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")


def store_upload(
    session: Session,
    stream: BinaryIO,
    *,
    filename: str,
    upload_folder: str | os.PathLike[str],
    max_bytes: int | None = None,
    source: str | None = None,
    uploaded_by: int | None = None,
    pipeline: str = "crm",
) -> ImportSummary:
    """Copy an upload byte for byte into the upload folder and record a pending import.

    ``pipeline`` says what the import writes: CRM records (``crm``) or applications (``ats``).
    """
    source = normalise_source(source)
    relative, size, sha256 = _keep(stream, Path(upload_folder), max_bytes)
    record = CrmImport(
        filename=_clean_filename(filename),
        source=source or "",
        uploaded_by=uploaded_by,
        uploaded_at=utcnow(),
        size=size,
        sha256=sha256,
        storage_path=str(relative),
        state="pending",
        pipeline=pipeline,
        options={},
        progress_line=0,
        rows=0,
        inserted=0,
        updated=0,
        unchanged=0,
        rejected=0,
    )
    session.add(record)
    session.commit()
    return summarise(record, ())


def _keep(stream: BinaryIO, folder: Path, max_bytes: int | None) -> tuple[PurePosixPath, int, str]:
    """Copy the upload into the folder (mode 0600, synced); its path there, size and digest."""
    spool = private_folder(folder, "crm", "incoming")
    temporary = spool / f"{secrets.token_hex(8)}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        # Created readable by the service's user only: the bytes hold customer emails in clear.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            while chunk := stream.read(CHUNK_SIZE):
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise TooLarge(
                        f"The file is larger than the upload limit of {_megabytes(max_bytes)} "
                        "(MAX_UPLOAD_MB); split the export or ask an admin to raise the limit.",
                        {"file": "Too large."},
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha256 = digest.hexdigest()
        # One file per upload, named by its digest: retention deletes an import's raw file
        # without touching another upload of the same bytes.
        relative = PurePosixPath("crm", sha256[:2], f"{sha256}-{temporary.stem}")
        final = folder / relative
        private_folder(folder, "crm", sha256[:2])
        os.replace(temporary, final)
        _fsync_directory(final.parent)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return relative, size, sha256


def private_folder(root: Path, *parts: str) -> Path:
    """``root / parts``, created if missing; each folder from ``crm`` down is mode 0700."""
    path = root
    for part in parts:
        path = path / part
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)  # folders made before raw files were private
    return path


def normalise_source(source: str | None) -> str | None:
    """A source-system name as stored (`HubSpot` -> `hubspot`); None when not given."""
    if source is None or not source.strip():
        return None
    value = source.strip().lower()
    if not _SOURCE.fullmatch(value):
        raise InvalidInput(
            f"Source {source!r} is not a valid source name: use up to 40 letters, digits, "
            "'.', '_' or '-' (e.g. salesforce, hubspot, pipedrive, zoho).",
            {"source": "Invalid."},
        )
    return value


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def _clean_filename(name: str) -> str:
    base = PurePosixPath(name.replace("\\", "/")).name
    base = "".join(c for c in base if c.isprintable()).strip()
    return (base or "upload.csv")[-255:]


def _fsync_directory(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(descriptor)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(descriptor)
