"""Reading ATS exports: the CRM import's pipeline with the applicant tracking systems' columns.

Pure (no database, no Flask). The file is read by ``crm.parsing.inspect_export`` with
:data:`ATS_ALIASES` (encoding, delimiter, header row, duplicate ids, day/month order, all as
for a CRM export), and each data row it yields is turned into a :class:`ParsedApplication`
or a ``RowError`` here. Whatever file kinds the pipeline reads, this module reads too.

Value conventions of the systems (sources: tests/data/README.md):

* hired: a hired flag column, else a status or stage reading as hired (``Hired``,
  ``Offer accepted``, SmartRecruiters' ``HIRED``, Personio's ``Eingestellt``, Lever's
  archive reason ``Hired``); ``Offer``, ``Offer declined`` and ``Not hired`` are not;
* hired_at: a hired or offer-accepted date column, else (Lever) the date the application
  was archived when it was archived as hired; only hired applications have one;
* applied_at: the application date; a sourced candidate without one (Lever, Ashby) takes
  the first-contact date instead;
* referrer: a referrer email column wins over a referrer name column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import BinaryIO, Final, NamedTuple

from linktracker.crm.parsing import (
    AliasTable,
    ExportInfo,
    ExportRows,
    RowError,
    inspect_export,
)
from linktracker.crm.parsing.values import (
    ValueProblem,
    normalise_email,
    parse_flag,
    query_params,
)

__all__ = [
    "ATS_ALIASES",
    "ATS_FIELDS",
    "AtsExport",
    "ParsedApplication",
    "build_converter",
    "detect_ats_format",
    "inspect_ats_export",
    "is_hired",
]

ATS_FIELDS: Final = (
    "external_id",
    "applied_at",
    "job",
    "stage",
    "status",
    "hired",
    "hired_at",
    "ended_at",
    "first_contact_at",
    "email",
    "source",
    "referrer",
    "referrer_email",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "click_id",
    "landing_url",
)
_DATE_FIELDS: Final = ("applied_at", "hired_at", "ended_at", "first_contact_at")
_UTM_FIELDS: Final = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")

# Column names per field, best first, as the seven systems (and hand-made sheets) write them.
ATS_ALIASES: Final = AliasTable(
    {
        "external_id": (
            "application id",
            "application_id",
            "opportunity id",
            "bewerbungs id",
            "bewerbung id",
            "candidate id",
            "kandidaten id",
            "id",
            "external id",
        ),
        "applied_at": (
            "applied at",
            "applied at gmt",
            "applied on",
            "applied date",
            "application date",
            "date applied",
            "applied",
            "bewerbungsdatum",
            "eingangsdatum",
            "created at",
            "created on",
            "creation date",
            "created",
        ),
        "job": (
            "job",
            "job name",
            "job title",
            "job posting",
            "posting",
            "posting title",
            "position",
            "position name",
            "stelle",
            "stellenbezeichnung",
            "requisition",
            "role",
        ),
        "stage": (
            "current stage",
            "stage",
            "final phase",
            "current interview stage",
            "pipeline stage",
            "phase",
            "step",
        ),
        "status": (
            "status",
            "application status",
            "final status",
            "archive reason",
            "archived reason",
            "disposition",
            "bewerbungsstatus",
        ),
        "hired": ("hired", "is hired", "eingestellt"),
        "hired_at": (
            "hired at",
            "hired date",
            "hire date",
            "hired on",
            "date hired",
            "offer accepted date",
            "offer accepted at",
            "offer accepted on",
            "einstellungsdatum",
            "eingestellt am",
            "zusage am",
        ),
        "ended_at": (
            "archived at",
            "archived at gmt",
            "archived on",
            "archived date",
            "final status date",
        ),
        "first_contact_at": (
            "first contact",
            "first contact at",
            "first contact date",
            "first contacted",
            "first contacted at",
            "created at gmt",
            "sourced at",
            "sourced on",
            "connected at",
            "sourced date",
            "first outreach",
            "erstkontakt",
        ),
        "email": (
            "email",
            "e mail",
            "email address",
            "email addresses",
            "candidate email",
            "emails",
            "e mail adresse",
        ),
        "source": (
            "source",
            "sources",
            "origin",
            "source name",
            "source type",
            "channel",
            "application channel",
            "kanal",
            "quelle",
        ),
        "referrer": (
            "referrer",
            "referrer name",
            "referred by",
            "referring employee",
            "referring colleague",
            "referral",
            "employee referral",
            "empfohlen von",
            "empfehlung von",
        ),
        "referrer_email": (
            "referrer email",
            "referred by email",
            "referring employee email",
            "referring colleague email",
            "empfohlen von e mail",
        ),
        "utm_source": ("utm source",),
        "utm_medium": ("utm medium",),
        "utm_campaign": ("utm campaign",),
        "utm_content": ("utm content",),
        "utm_term": ("utm term",),
        "click_id": ("click id", "clickid", "lt cid", "lt click id"),
        "landing_url": (
            "landing url",
            "landing page",
            "referring url",
            "source url",
            "application url",
            "first page",
        ),
    },
    fields=ATS_FIELDS,
    needed={
        "external_id": (
            "application id column",
            "'Application ID', 'Candidate ID', 'Opportunity ID', 'ID'",
        ),
        "applied_at": (
            "application-date column",
            "'Applied On', 'Applied At (GMT)', 'Application Date', 'Bewerbungsdatum'",
        ),
    },
    date_fields=_DATE_FIELDS,
)

# Exact header spellings each system writes; ids count triple.
_FINGERPRINTS: Final[dict[str, dict[str, int]]] = {
    "greenhouse": {
        "Application ID": 1,
        "Applied On": 2,
        "Current Stage": 1,
        "Job Name": 1,
        "Referrer": 1,
        "Hired Date": 1,
        "Email Addresses": 2,
    },
    "lever": {
        "Opportunity ID": 3,
        "Applied At (GMT)": 2,
        "Created At (GMT)": 2,
        "Archive Reason": 1,
        "Archived At (GMT)": 1,
        "Posting Title": 1,
        "Origin": 1,
    },
    "ashby": {
        "Current Interview Stage": 3,
        "Application Status": 1,
        "Credited To": 1,
        "Sourced At": 1,
        "Offer Accepted Date": 1,
    },
    "workable": {
        "Job Title": 1,
        "Disqualified": 2,
        "Sourced": 1,
        "Hired at": 1,
        "Created on": 1,
    },
    "smartrecruiters": {
        "Application Date": 1,
        "Sub-Status": 3,
        "Source Type": 1,
        "Source Subtype": 2,
        "Hired On": 1,
    },
    "personio": {
        "Final status": 2,
        "Final phase": 1,
        "Final status date": 1,
        "Application channel": 2,
        "Bewerbungs-ID": 3,
        "Bewerbungsdatum": 1,
        "Stelle": 1,
        "Kanal": 1,
        "Empfohlen von": 1,
    },
    "teamtailor": {
        "Candidate ID": 1,
        "Referring colleague": 3,
        "Connected at": 1,
        "Sourced": 1,
        "Hired at": 1,
    },
}

# Hired: `Hired`, `Offer accepted` (both word orders), Personio's German words.
_HIRED: Final = re.compile(
    r"(?i)\b(?:hired|offer\s*[-_]?\s*accepted|accepted\s+offer|eingestellt"
    r"|angebot\s+angenommen|vertrag\s+unterschrieben|embauch[ée]e?|contratad[oa])\b"
)
_NOT_HIRED: Final = re.compile(r"(?i)\b(?:not|un|no|nicht)[\s_-]*(?:hired|eingestellt)\b")


# Personio's final status of a hire is just "Accepted" (the offer was).
_ACCEPTED: Final = frozenset({"accepted", "angenommen"})


def is_hired(text: str) -> bool:
    """Whether a stage, status or archive reason says the candidate was hired."""
    if text.strip().casefold() in _ACCEPTED:
        return True
    return bool(_HIRED.search(text)) and not _NOT_HIRED.search(text)


def detect_ats_format(columns: Sequence[str]) -> str:
    """Name the ATS that wrote this header (``generic`` when none stands out)."""
    stripped = {c.strip().lstrip("\ufeff") for c in columns}
    scores = {
        name: sum(w for c, w in marks.items() if c in stripped)
        for name, marks in _FINGERPRINTS.items()
    }
    best = max(scores.values())
    winners = [name for name, score in scores.items() if score == best]
    return winners[0] if best >= 3 and len(winners) == 1 else "generic"


class ParsedApplication(NamedTuple):
    """One good row of an ATS export (datetimes UTC-aware; the email in clear until stored)."""

    line: int
    external_id: str
    applied_at: datetime
    job: str | None
    stage: str | None
    hired: bool
    hired_at: datetime | None
    first_contact_at: datetime | None
    email: str | None
    source: str | None
    referrer: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_content: str | None
    utm_term: str | None
    click_id: str | None
    landing_url: str | None
    raw: tuple[str, ...]


ApplicationConverter = Callable[[int, list[str]], ParsedApplication | RowError]


@dataclass(frozen=True)
class AtsExport:
    """An inspected ATS export: what was found, its rows, and the format it looks like."""

    info: ExportInfo
    rows: ExportRows
    format: str

    def converter(self) -> ApplicationConverter:
        return build_converter(self.rows, self.info.mapping)


def inspect_ats_export(
    stream: BinaryIO,
    *,
    mapping: Mapping[str, str | None] | None = None,
    dayfirst: bool | None = None,
    timezone: str = "UTC",
    click_id_param: str = "lt_cid",
    source: str | None = None,
) -> AtsExport:
    """Inspect an ATS export (raises ``UnreadableExport`` for a file refused whole)."""
    start = stream.tell()
    info, rows = inspect_export(
        stream,
        mapping=mapping,
        dayfirst=dayfirst,
        timezone=timezone,
        click_id_param=click_id_param,
        source=source or "ats",
        aliases=ATS_ALIASES,
    )
    stream.seek(start)
    found = detect_ats_format(info.header)
    info = replace(
        info, source=source or found, format=found, kind="application", won_rule=HIRED_RULE
    )
    return AtsExport(info, rows, found)


HIRED_RULE: Final = (
    "hired when a hired column is yes, else when the status or stage reads as hired "
    "('Hired', 'Offer accepted', 'Eingestellt'); hired_at from the hired or offer-accepted "
    "date, else the archive date of an application archived as hired"
)

_LIMITS: Final = (
    ("external_id", 128),
    ("job", 200),
    ("stage", 120),
    ("source", 200),
    ("referrer", 320),
    ("utm_source", 200),
    ("utm_medium", 200),
    ("utm_campaign", 200),
    ("utm_content", 200),
    ("utm_term", 200),
    ("click_id", 40),
)


class _CellError(Exception):
    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def build_converter(rows: ExportRows, mapping: Mapping[str, str | None]) -> ApplicationConverter:
    """The function turning one data row into a :class:`ParsedApplication` or a row error."""
    plan = rows.plan
    columns = plan.header.columns
    width = len(columns)
    at = {field: -1 for field in ATS_FIELDS}
    for position, target in enumerate(plan.header.targets):
        if target in at:
            at[target] = position
    dates, superseded = plan.dates, plan.superseded
    click_param = plan.click_id_param
    from_url = frozenset([*_UTM_FIELDS, click_param])

    def name(field: str) -> str | None:
        return columns[at[field]] if at[field] >= 0 else None

    def text(row: list[str], field: str) -> str | None:
        return row[at[field]].strip() or None

    def date(row: list[str], field: str) -> datetime | None:
        try:
            return dates(row[at[field]])
        except ValueProblem as problem:
            raise _CellError(name(field), str(problem)) from None

    def hired(row: list[str]) -> bool:
        try:
            flag = parse_flag(row[at["hired"]])
        except ValueProblem as problem:
            raise _CellError(name("hired"), str(problem)) from None
        if flag is not None:
            return flag
        return any(value and is_hired(value) for value in (text(row, "status"), text(row, "stage")))

    def convert(line: int, row: list[str]) -> ParsedApplication | RowError:
        raw = tuple(row)
        if len(row) < width:
            missing = columns[len(row)]
            reason = f"short row: {len(row)} of {width} cells, nothing for {missing!r} and after"
            return RowError(line, missing, reason, raw)
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            reason = f"row has {len(row)} cells but the header has {width}"
            return RowError(line, None, reason, raw)
        if plan.suspicious and any("\ufffd" in c or "\x00" in c for c in row):
            return RowError(line, None, "bytes that are not valid text in this encoding", raw)
        row = [*row[:width], ""]
        external_id = row[at["external_id"]].strip()
        if not external_id:
            return RowError(line, name("external_id"), "missing id", raw)
        if (later := superseded.get(external_id, line)) != line:
            reason = f"duplicate id {external_id}, superseded by line {later}"
            return RowError(line, name("external_id"), reason, raw)
        try:
            first_contact = date(row, "first_contact_at")
            applied = date(row, "applied_at") or first_contact
            if applied is None:
                return RowError(line, name("applied_at"), "missing application date", raw)
            is_hire = hired(row)
            hired_at = (date(row, "hired_at") or date(row, "ended_at")) if is_hire else None
        except _CellError as problem:
            return RowError(line, problem.column, problem.reason, raw)
        utm = [text(row, field) for field in _UTM_FIELDS]
        click_id = text(row, "click_id")
        url = text(row, "landing_url")
        if url and "?" in url and (None in utm or click_id is None):
            params = query_params(url, from_url)
            utm = [
                value or params.get(field) for value, field in zip(utm, _UTM_FIELDS, strict=True)
            ]
            click_id = click_id or params.get(click_param)
        email_cell = row[at["email"]]
        referrer_email = row[at["referrer_email"]]
        referrer = (normalise_email(referrer_email) if referrer_email else None) or text(
            row, "referrer"
        )
        parsed = ParsedApplication(
            line,
            external_id,
            applied,
            text(row, "job"),
            text(row, "stage") or text(row, "status"),
            is_hire,
            hired_at,
            first_contact,
            normalise_email(email_cell) if email_cell else None,
            text(row, "source"),
            referrer,
            utm[0],
            utm[1],
            utm[2],
            utm[3],
            utm[4],
            click_id,
            url,
            raw,
        )
        for field, limit in _LIMITS:
            value = getattr(parsed, field)
            if value is not None and len(value) > limit:
                return RowError(
                    line, name(field), f"{field} is longer than {limit} characters", raw
                )
        return parsed

    return convert
