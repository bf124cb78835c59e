"""HubSpot workflow webhooks ("Send a webhook" action) as pushed records: the field mapping.

HubSpot sends one object per request: either the object with its properties
(`{"objectId": 42, "objectType": "DEAL", "properties": {"dealstage": {"value": "closedwon"}}}`,
the classic workflow webhook; a property may also be a plain value) or, with chosen
properties, a flat object (`{"hs_object_id": "42", "dealstage": "closedwon"}`). A JSON list of
such objects is taken as a batch. HubSpot's dates are milliseconds since 1970 (UTC).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from linktracker.crm.push import PushError, PushRefused

# HubSpot internal property name -> the record field it fills (the first one present wins).
HUBSPOT_FIELDS: Final = {
    "hs_object_id": "external_id",
    "objectId": "external_id",
    "vid": "external_id",
    "createdate": "created_at",
    "closedate": "closed_at",
    "dealstage": "stage",
    "lifecyclestage": "stage",
    "hs_is_closed_won": "won",
    "amount": "amount",
    "deal_currency_code": "currency",
    "hubspot_owner_id": "owner",
    "email": "email",
    "dealname": "name",
    "company": "company",
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "utm_content": "utm_content",
    "utm_term": "utm_term",
    "lt_cid": "click_id",
    "hs_analytics_first_url": "landing_url",
    "hs_analytics_source": "source",
}
OBJECT_KINDS: Final = {"DEAL": "deal", "CONTACT": "contact", "LEAD": "lead"}
_DATES: Final = ("created_at", "closed_at")


def _value(raw: Any) -> Any:
    return raw.get("value") if isinstance(raw, Mapping) else raw


def _date(value: Any) -> Any:
    text = str(value).strip()
    if text.isdigit() and len(text) >= 11:  # epoch milliseconds
        return datetime.fromtimestamp(int(text) / 1000, UTC).isoformat()
    return value


def hubspot_record(index: int, event: Any) -> dict[str, Any]:
    """One HubSpot webhook object as a pushed record (field names of a CSV header)."""
    if not isinstance(event, Mapping):
        raise PushRefused(
            f"Object {index} is not a JSON object.", [PushError(index, None, "not an object")]
        )
    properties = event.get("properties")
    flat: dict[str, Any] = {key: value for key, value in event.items() if key != "properties"}
    if isinstance(properties, Mapping):
        flat.update({key: _value(value) for key, value in properties.items()})
    record: dict[str, Any] = {}
    for name, target in HUBSPOT_FIELDS.items():
        value = flat.get(name)
        if value not in (None, "") and target not in record:
            record[target] = _date(value) if target in _DATES else value
    kind = OBJECT_KINDS.get(str(flat.get("objectType") or "").upper())
    if kind:
        record["kind"] = kind
    return record


def hubspot_records(payload: Any) -> list[dict[str, Any]]:
    """The records of a HubSpot webhook request (one object, or a list of them)."""
    events = payload if isinstance(payload, list) else [payload]
    return [hubspot_record(index, event) for index, event in enumerate(events)]
