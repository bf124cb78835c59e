"""What an import run needs from the app around it, handed to the import use cases whole."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Protocol

from sqlalchemy.orm import Session

# How long an import waits for the one running before it answers "busy" (web and API).
LOCK_WAIT_SECONDS: Final = 30.0


class AttributeRecords(Protocol):
    """Credits the records an import wrote to clicks (``attribution.services.attribute_records``).

    Attribution reads CRM records, so the import is handed it by its caller rather than
    importing it: the CRM package stays below attribution.
    """

    def __call__(
        self,
        session: Session,
        *,
        window_days: int,
        click_id_param: str,
        record_ids: Iterable[int] | None,
    ) -> object: ...


@dataclass(frozen=True)
class ImportContext:
    """Where uploads live, how emails are hashed, and what follows an import.

    Given ``attribute``, the records an import wrote are attributed (``window_days``)
    before it is done; given ``raw_retention_days``, raw files past retention are deleted
    after it. An import waits up to ``wait_seconds`` for the one running (None: for ever).
    """

    upload_folder: str | os.PathLike[str]
    email_secret: bytes
    max_bytes: int | None = None
    window_days: int = 30
    attribute: AttributeRecords | None = None
    wait_seconds: float | None = LOCK_WAIT_SECONDS
    raw_retention_days: int | None = None
