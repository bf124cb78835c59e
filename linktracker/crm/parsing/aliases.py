"""Header names per field: the CRM's alias table, and the type another source's table takes.

An alias table is data the header mapping takes (``map_header(..., aliases=...)``), so an
import of another outcome source reads its own column names with the same pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from linktracker.crm.parsing.date_order import DATE_FIELDS

__all__ = ["CRM_ALIASES", "AliasTable", "normalise_header"]

_NON_WORD: Final = re.compile(r"[\W_]+")


def normalise_header(name: str) -> str:
    """Reduce a header to its comparable form: `Deal - Won time` -> `deal won time`."""
    value = name.strip().lstrip("\ufeff")
    if value.endswith("__c"):
        # Salesforce custom fields (`UTM_Content__c`) carry the API suffix.
        value = value[:-3]
    return _NON_WORD.sub(" ", value.casefold()).strip()


@dataclass(frozen=True)
class AliasTable:
    """Column names per field, best first: when two columns claim a field, the earlier wins.

    Names are compared in their normalised form (``normalise_header``): case, punctuation
    and a Salesforce ``__c`` suffix do not matter.
    """

    aliases: Mapping[str, tuple[str, ...]]
    # Another source's own fields: those an explicit mapping may name (empty: the CRM's),
    # the columns a file must have, as {field: (what it is, example names)} (empty: the
    # CRM's id and creation date), and the date columns that vote on the day/month order.
    fields: tuple[str, ...] = ()
    needed: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    date_fields: tuple[str, ...] = DATE_FIELDS
    _index: dict[str, tuple[str, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, tuple[str, int]] = {}
        for target, names in self.aliases.items():
            for rank, name in enumerate(names):
                index[normalise_header(name)] = (target, rank)
        object.__setattr__(self, "_index", index)

    def lookup(self, normalised: str) -> tuple[str, int] | None:
        """The (field, rank) a normalised column name feeds, if any; lower rank is better."""
        return self._index.get(normalised)


CRM_ALIASES: Final = AliasTable(
    {
        "external_id": (
            "opportunity id",
            "deal id",
            "lead id",
            "contact id",
            "record id",
            "hs object id",
            "id",
            "external id",
            "crm id",
            "object id",
            "person id",
        ),
        "kind": ("kind", "record kind", "object type"),
        "created_at": (
            "created date",
            "create date",
            "created at",
            "created on",
            "created time",
            "creation date",
            "date created",
            "deal created",
            "add time",
            "lead created",
            "created",
            "date",
        ),
        "owner": (
            "owner",
            "opportunity owner",
            "deal owner",
            "lead owner",
            "contact owner",
            "record owner",
            "hubspot owner",
            "owner name",
            "assigned to",
            "sales rep",
            "salesperson",
            "rep",
            "account owner",
        ),
        "stage": (
            "stage",
            "deal stage",
            "opportunity stage",
            "lead status",
            "pipeline stage",
            "lead stage",
            "lifecycle stage",
        ),
        "status": ("status", "deal status"),
        "won": ("won", "is won", "iswon", "converted", "is converted", "isconverted", "closed won"),
        "closed": ("closed", "is closed", "isclosed"),
        "closed_at": (
            "close date",
            "closed date",
            "closing date",
            "date closed",
            "closed at",
            "closed on",
            "deal closed on",
            "close time",
            "converted date",
            "conversion date",
            "date converted",
        ),
        "won_at": ("won time", "won date", "won at", "date won"),
        "lost_at": ("lost time", "lost date", "lost at", "date lost"),
        "amount": (
            "amount",
            "deal amount",
            "opportunity amount",
            "value",
            "deal value",
            "total amount",
            "amount converted",
            "revenue",
        ),
        "currency": (
            "currency",
            "amount currency",
            "currency code",
            "currency iso code",
            "deal currency",
            "opportunity currency",
            "currency of value",
            "value currency",
        ),
        "email": (
            "email",
            "e mail",
            "email address",
            "e mail address",
            "person email",
            "contact email",
            "lead email",
            "work email",
            "primary email",
            "email work",
        ),
        "utm_source": ("utm source",),
        "utm_medium": ("utm medium", "medium"),
        "utm_campaign": ("utm campaign", "campaign", "campaign name", "primary campaign source"),
        "utm_content": ("utm content",),
        "utm_term": ("utm term",),
        "click_id": ("click id", "clickid", "lt cid", "linktracker click id", "lt click id"),
        "landing_url": (
            "landing url",
            "landing page",
            "landing page url",
            "first page seen",
            "first page",
            "first url",
            "entry page",
            "page url",
            "url",
        ),
        "source": (
            "lead source",
            "original source",
            "source",
            "deal source",
            "original source type",
            "traffic source",
            "source channel",
            "latest source",
        ),
        "source_detail": ("original source drill down 1", "original source drill down 2"),
        "name": (
            "deal name",
            "opportunity name",
            "deal title",
            "lead title",
            "lead name",
            "contact name",
            "full name",
            "name",
        ),
        "company": (
            "company",
            "company name",
            "account name",
            "company account",
            "organization name",
            "organisation name",
            "organization",
            "organisation",
            "associated company",
            "account",
        ),
    }
)
