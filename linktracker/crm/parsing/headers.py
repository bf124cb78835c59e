"""Header rows of CRM exports: column aliases, explicit mappings, format and record kind.

One alias table serves every CRM: header names are compared case- and
punctuation-insensitively, so `Create Date`, `create_date` and `CREATE-DATE` are the same
column. The export format (Salesforce, HubSpot, …) is only recognised from fingerprints
for reporting and as the default source name; it never changes how a column is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from linktracker.crm.parsing.aliases import CRM_ALIASES, AliasTable, normalise_header
from linktracker.crm.parsing.date_order import DATE_FIELDS

__all__ = [
    "KINDS",
    "TARGETS",
    "HeaderMapping",
    "MappingError",
    "detect_format",
    "map_header",
    "normalise_header",
    "normalise_kind",
]


class MappingError(ValueError):
    """The header cannot be mapped to CRM fields; the message says what is missing.

    ``mapping`` holds what was recognised ({column: field or None}) when only a needed
    column is missing, so a person can complete it instead of starting from nothing.
    """

    def __init__(self, message: str, mapping: dict[str, str | None] | None = None) -> None:
        super().__init__(message)
        self.mapping = mapping


# Fields a column can be mapped to. Besides the record's own fields, `status` (Pipedrive
# open/won/lost), `closed` (a yes/no column), `won_at`/`lost_at` (Pipedrive times) and
# `source_detail` (HubSpot drill-downs, several columns joined) feed derived values.
TARGETS: Final = (
    "external_id",
    "kind",
    "created_at",
    "owner",
    "stage",
    "status",
    "won",
    "closed",
    "closed_at",
    "won_at",
    "lost_at",
    "amount",
    "currency",
    "email",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "click_id",
    "landing_url",
    "source",
    "source_detail",
    "name",
    "company",
)
_MULTI_COLUMN: Final = frozenset({"source_detail"})
KINDS: Final = ("lead", "contact", "deal")

# Pipedrive writes `Entity - Field` (`Deal - Won time`, `Person - Email`).
_PIPEDRIVE: Final = re.compile(
    r"^(deal|lead|person|organization|organisation|product|activity|project|note)\s+-\s+(.+)$",
    re.IGNORECASE,
)
# Fields of other Pipedrive entities rank after those of the file's own entity, and only
# these entities can carry the record's fields (an organization's ID is not the deal's).
_FOREIGN_PENALTY: Final = 1000
_PREFIX_PENALTY: Final = 100
_RECORD_ENTITIES: Final = frozenset({"deal", "lead", "person"})

# Exact header spellings each CRM writes; ids count triple because they are unique.
_FINGERPRINTS: Final[dict[str, dict[str, int]]] = {
    "salesforce": {
        "Lead ID": 3,
        "Opportunity ID": 3,
        "Contact ID": 3,
        "Account ID": 1,
        "Lead Owner": 1,
        "Opportunity Owner": 1,
        "Lead Status": 1,
        "Primary Campaign Source": 1,
        "Converted": 1,
        "Converted Date": 1,
        "Created Date": 1,
        "Stage": 1,
        "Won": 1,
        "Closed": 1,
        "Opportunity Name": 1,
        "Company / Account": 1,
        "Probability (%)": 1,
        "Fiscal Period": 1,
    },
    "hubspot": {
        "Record ID": 3,
        "Create Date": 1,
        "Deal Stage": 1,
        "Deal owner": 1,
        "Contact owner": 1,
        "Company owner": 1,
        "Original Source": 1,
        "Original Source Drill-Down 1": 1,
        "Original Source Drill-Down 2": 1,
        "First Page Seen": 1,
        "Pipeline": 1,
        "Lifecycle Stage": 1,
        "Associated Company": 1,
        "Last Activity Date": 1,
    },
    "zoho": {
        "Record Id": 3,
        "Closing Date": 1,
        "Created Time": 1,
        "Modified Time": 1,
        "Deal Owner": 1,
        "Contact Name": 1,
        "Expected Revenue": 1,
    },
}
_KIND_WORDS: Final[dict[str, str]] = {
    "opportunity": "deal",
    "deal": "deal",
    "lead": "lead",
    "contact": "contact",
    "person": "contact",
}
_KIND_VALUES: Final[dict[str, str]] = {
    **_KIND_WORDS,
    "leads": "lead",
    "contacts": "contact",
    "people": "contact",
    "deals": "deal",
    "opportunities": "deal",
    "opp": "deal",
}


def normalise_kind(value: str) -> str | None:
    """Map a kind cell (`Opportunity`, `Deals`, `person`) to lead/contact/deal or None."""
    return _KIND_VALUES.get(normalise_header(value))


@dataclass(frozen=True)
class HeaderMapping:
    """The columns of a header row and the field each one feeds (None: ignored)."""

    columns: tuple[str, ...]
    targets: tuple[str | None, ...]
    format: str
    kind: str
    date_fields: tuple[str, ...] = DATE_FIELDS  # the fields whose dates vote on their order

    def index(self, target: str) -> int | None:
        """Return the position of the column mapped to ``target``, if any."""
        try:
            return self.targets.index(target)
        except ValueError:
            return None

    def indexes(self, target: str) -> tuple[int, ...]:
        """Return the positions of every column mapped to ``target``."""
        return tuple(i for i, t in enumerate(self.targets) if t == target)

    def as_dict(self) -> dict[str, str | None]:
        """Return the mapping as {column name: field or None}, in file order."""
        return dict(zip(self.columns, self.targets, strict=True))


def column_names(cells: Sequence[str]) -> tuple[str, ...]:
    """The header cells as unique column names (the mapping's keys)."""
    # Names must be unique to serve as mapping keys; blank and repeated headers happen.
    names: list[str] = []
    seen: set[str] = set()
    for position, cell in enumerate(cells, start=1):
        name = cell.strip().lstrip("\ufeff")
        if not name:
            name = f"(column {position})"
        elif name in seen:
            name = f"{name} (column {position})"
        seen.add(name)
        names.append(name)
    return tuple(names)


def _candidate(
    name: str, primary_entity: str | None, aliases: AliasTable
) -> tuple[str, int] | None:
    """Return (field, rank) the column named ``name`` would feed; lower rank is better."""
    hit = aliases.lookup(normalise_header(name))
    if hit is not None:
        return hit
    prefixed = _PIPEDRIVE.match(name.strip())
    if prefixed is None:
        return None
    entity = prefixed[1].casefold()
    if entity not in _RECORD_ENTITIES:
        return None
    hit = aliases.lookup(normalise_header(prefixed[2]))
    if hit is None:
        return None
    penalty = _PREFIX_PENALTY if entity == primary_entity else _FOREIGN_PENALTY
    return hit[0], hit[1] + penalty


def _primary_entity(columns: Sequence[str]) -> str | None:
    entities = [m[1].casefold() for c in columns if (m := _PIPEDRIVE.match(c.strip()))]
    if not entities:
        return None
    first = _PIPEDRIVE.match(columns[0].strip())
    return first[1].casefold() if first else max(set(entities), key=entities.count)


def detect_format(columns: Sequence[str]) -> str:
    """Name the CRM that wrote this header: salesforce, hubspot, pipedrive, zoho, generic."""
    stripped = [c.strip().lstrip("\ufeff") for c in columns]
    if sum(1 for c in stripped if _PIPEDRIVE.match(c)) * 2 >= len(stripped):
        return "pipedrive"
    scores = {
        name: sum(weights.get(c, 0) for c in stripped) for name, weights in _FINGERPRINTS.items()
    }
    best = max(scores.values())
    winners = [name for name, score in scores.items() if score == best]
    return winners[0] if best >= 2 and len(winners) == 1 else "generic"


def _detect_kind(columns: Sequence[str], targets: Sequence[str | None]) -> str:
    # The id column says it best (`Lead ID`, `Deal - ID`); otherwise the words of all
    # headers vote (`Deal Stage`, `Deal owner`); amounts belong to deals; else a lead.
    id_column = columns[targets.index("external_id")]
    for word in normalise_header(id_column).split():
        if word in _KIND_WORDS:
            return _KIND_WORDS[word]
    votes: dict[str, int] = {}
    for column in columns:
        for word in normalise_header(column).split():
            if word in _KIND_WORDS:
                votes[_KIND_WORDS[word]] = votes.get(_KIND_WORDS[word], 0) + 1
    if votes:
        ranked = sorted(votes.items(), key=lambda item: item[1], reverse=True)
        if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
            return ranked[0][0]
    return "deal" if "amount" in targets else "lead"


def _explicit_index(key: str, columns: Sequence[str], cells: Sequence[str]) -> int:
    for candidates in (columns, [c.strip() for c in cells]):
        if key in candidates:
            return list(candidates).index(key)
    wanted = normalise_header(key)
    for position, column in enumerate(columns):
        if normalise_header(column) == wanted:
            return position
    raise MappingError(
        f"The mapping names column {key!r}, which is not in the file. "
        f"Columns found: {_quoted(columns)}."
    )


_NEEDED: Final = {
    "external_id": ("id column", "'Record ID', 'Lead ID', 'Opportunity ID', 'Deal - ID', 'id'"),
    "created_at": (
        "creation-date column",
        "'Create Date', 'Created Date', 'Deal - Deal created', 'Created Time', 'created_at'",
    ),
}


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _pin_explicit(
    explicit: Mapping[str, str | None],
    columns: Sequence[str],
    cells: Sequence[str],
    targets: list[str | None],
    fields: Sequence[str] = TARGETS,
) -> set[int]:
    """Set the explicitly mapped columns' fields in ``targets``; return their positions."""
    pinned: set[int] = set()
    for key, target in explicit.items():
        if target is not None and target not in fields:
            raise MappingError(
                f"The mapping sends column {key!r} to unknown field {target!r}. "
                f"Fields: {', '.join(fields)}."
            )
        position = _explicit_index(key, columns, cells)
        if target is not None and target not in _MULTI_COLUMN:
            # An explicit choice displaces any other column for that field.
            for other, assigned in enumerate(targets):
                if assigned == target and other in pinned:
                    raise MappingError(
                        f"The mapping sends both {columns[other]!r} and {key!r} to {target!r}."
                    )
        targets[position] = target
        pinned.add(position)
    return pinned


def map_header(
    cells: Sequence[str],
    *,
    explicit: Mapping[str, str | None] | None = None,
    click_id_param: str = "lt_cid",
    aliases: AliasTable = CRM_ALIASES,
) -> HeaderMapping:
    """Map header cells to fields, explicit entries first, then by ``aliases``.

    Refuses a header without the columns ``aliases`` needs (the CRM's: an id and a
    creation date); an explicit mapping may name the fields ``aliases`` has.
    """
    columns = column_names(cells)
    targets: list[str | None] = [None] * len(columns)
    pinned = _pin_explicit(explicit or {}, columns, cells, targets, aliases.fields or TARGETS)

    click_alias = normalise_header(click_id_param)
    primary = _primary_entity(columns)
    best: dict[str, tuple[int, int]] = {}
    for position, column in enumerate(columns):
        if position in pinned:
            continue
        hit = _candidate(column, primary, aliases)
        if hit is None and click_alias and normalise_header(column) == click_alias:
            hit = ("click_id", 0)
        if hit is None:
            continue
        target, rank = hit
        if target in _MULTI_COLUMN:
            targets[position] = target
        elif target not in targets and (target not in best or rank < best[target][0]):
            best[target] = (rank, position)
    for target, (_, position) in best.items():
        targets[position] = target

    needed = aliases.needed or _NEEDED
    missing = [t for t in needed if t not in targets]
    if missing:
        raise MappingError(
            f"No {' and no '.join(needed[m][0] for m in missing)} found. "
            f"Columns found: {_quoted(columns)}. "
            f"Needed: {'; '.join(f'{needed[m][0]} (e.g. {needed[m][1]})' for m in missing)}. "
            "If the file names them differently, map them explicitly.",
            dict(zip(columns, targets, strict=True)),
        )
    return HeaderMapping(
        columns=columns,
        targets=tuple(targets),
        format=detect_format(cells),
        kind=_detect_kind(columns, targets),
        date_fields=aliases.date_fields,
    )
