"""Header rows of CRM exports: aliases, formats, record kinds, explicit mappings."""

from __future__ import annotations

import pytest

from linktracker.crm.parsing.headers import (
    MappingError,
    detect_format,
    map_header,
    normalise_header,
    normalise_kind,
)


@pytest.mark.parametrize(
    ("header", "normalised"),
    [
        ("Deal - Won time", "deal won time"),
        ("UTM_Content__c", "utm content"),
        ("\ufeffRecord ID", "record id"),
        ("E-mail", "e mail"),
        ("  Original Source Drill-Down 1 ", "original source drill down 1"),
        ("Probability (%)", "probability"),
    ],
)
def test_headers_compare_case_and_punctuation_insensitively(header: str, normalised: str) -> None:
    assert normalise_header(header) == normalised


ALIASES = [
    # Salesforce
    ("Lead ID", "external_id"),
    ("Opportunity ID", "external_id"),
    ("Created Date", "created_at"),
    ("Lead Owner", "owner"),
    ("Opportunity Owner", "owner"),
    ("Lead Status", "stage"),
    ("Stage", "stage"),
    ("Close Date", "closed_at"),
    ("Amount", "amount"),
    ("Amount Currency", "currency"),
    ("Converted", "won"),
    ("Won", "won"),
    ("Closed", "closed"),
    ("Primary Campaign Source", "utm_campaign"),
    ("Lead Source", "source"),
    ("UTM_Source__c", "utm_source"),
    # HubSpot
    ("Record ID", "external_id"),
    ("Create Date", "created_at"),
    ("Deal owner", "owner"),
    ("Contact owner", "owner"),
    ("Deal Stage", "stage"),
    ("Original Source", "source"),
    ("Original Source Drill-Down 2", "source_detail"),
    ("First Page Seen", "landing_url"),
    ("Email", "email"),
    # Pipedrive
    ("Deal - ID", "external_id"),
    ("Deal - Status", "status"),
    ("Deal - Won time", "won_at"),
    ("Deal - Lost time", "lost_at"),
    ("Deal - Value", "amount"),
    ("Deal - Currency", "currency"),
    ("Deal - Owner", "owner"),
    ("Deal - Deal created", "created_at"),
    ("Deal - Add time", "created_at"),
    ("Person - Email", "email"),
    ("Lead - Title", "name"),
    ("Deal - utm_content", "utm_content"),
    # Zoho
    ("Record Id", "external_id"),
    ("Closing Date", "closed_at"),
    ("Deal Owner", "owner"),
    ("Created Time", "created_at"),
    # generic spreadsheets
    ("id", "external_id"),
    ("created", "created_at"),
    ("date", "created_at"),
    ("E-mail address", "email"),
    ("utm_content", "utm_content"),
    ("lt_cid", "click_id"),
    ("Click ID", "click_id"),
    ("Landing page", "landing_url"),
]


@pytest.mark.parametrize(("header", "target"), ALIASES)
def test_crm_header_aliases_map_to_fields(header: str, target: str) -> None:
    # The companions only supply the required fields the header under test does not.
    companions = {"external_id": ["Created Date"], "created_at": ["External ID"]}
    columns = [header, *companions.get(target, ["External ID", "Created Date"])]
    mapping = map_header(columns).as_dict()
    assert mapping[header] == target


def test_the_best_alias_wins_when_two_columns_claim_a_field() -> None:
    mapping = map_header(["Date", "Created Date", "id", "Converted Date", "Close Date"]).as_dict()
    assert mapping == {
        "Date": None,
        "Created Date": "created_at",
        "id": "external_id",
        "Converted Date": None,
        "Close Date": "closed_at",
    }


def test_pipedrive_fields_of_the_files_own_entity_win() -> None:
    header = ["Deal - ID", "Person - ID", "Organization - ID", "Deal - Add time", "Person - Name"]
    header += ["Organization - Name", "Deal - Title", "Person - Owner", "Deal - Owner"]
    mapping = map_header(header).as_dict()
    assert mapping["Deal - ID"] == "external_id"
    assert mapping["Person - ID"] is None
    assert mapping["Organization - ID"] is None
    assert (mapping["Deal - Title"], mapping["Person - Name"]) == ("name", None)
    assert mapping["Organization - Name"] == "company"
    assert (mapping["Deal - Owner"], mapping["Person - Owner"]) == ("owner", None)


def test_a_custom_click_id_parameter_name_is_an_alias() -> None:
    mapping = map_header(["id", "created", "ref_code"], click_id_param="ref_code").as_dict()
    assert mapping["ref_code"] == "click_id"


def test_blank_and_repeated_header_names_are_made_unique() -> None:
    found = map_header(["id", "created", "", "Email", "Email"])
    assert found.columns == ("id", "created", "(column 3)", "Email", "Email (column 5)")
    assert found.targets == ("external_id", "created_at", None, "email", None)


@pytest.mark.parametrize(
    ("header", "fmt"),
    [
        (["Lead ID", "Lead Owner", "Create Date", "Converted"], "salesforce"),
        (["Opportunity ID", "Stage", "Created Date", "Won", "Closed"], "salesforce"),
        (["Record ID", "Deal Name", "Deal Stage", "Create Date", "Deal owner"], "hubspot"),
        (["Record ID", "Create Date", "Deal Stage", "Amount"], "hubspot"),
        (["Deal - ID", "Deal - Title", "Deal - Add time", "Person - Email"], "pipedrive"),
        (["Record Id", "Deal Name", "Closing Date", "Created Time", "Deal Owner"], "zoho"),
        (["id", "created", "email", "utm_content"], "generic"),
        (["ID", "Created", "Stage"], "generic"),
    ],
)
def test_export_formats_are_recognised_from_header_fingerprints(
    header: list[str], fmt: str
) -> None:
    assert detect_format(header) == fmt


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (["Lead ID", "Create Date"], "lead"),
        (["Opportunity ID", "Created Date"], "deal"),
        (["Contact ID", "Created Date"], "contact"),
        (["Deal - ID", "Deal - Add time"], "deal"),
        (["Person - ID", "Person - Add time"], "contact"),
        (["Record ID", "Create Date", "Deal Stage", "Deal owner"], "deal"),
        (["Record ID", "Create Date", "Contact owner", "Email"], "contact"),
        (["id", "created", "amount"], "deal"),
        (["id", "created", "email"], "lead"),
    ],
)
def test_record_kind_comes_from_the_headers(header: list[str], kind: str) -> None:
    assert map_header(header).kind == kind


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("Opportunity", "deal"),
        ("deals", "deal"),
        ("Lead", "lead"),
        ("Person", "contact"),
        ("Account", None),
    ],
)
def test_kind_cells_are_normalised(value: str, kind: str | None) -> None:
    assert normalise_kind(value) == kind


def test_explicit_mapping_matches_columns_loosely_and_can_ignore_columns() -> None:
    found = map_header(
        ["Ref", "Created On", "Close Date"],
        explicit={"ref": "external_id", "CREATED ON": "created_at", "Close Date": None},
    )
    assert found.as_dict() == {"Ref": "external_id", "Created On": "created_at", "Close Date": None}


def test_missing_columns_are_named_in_the_refusal() -> None:
    with pytest.raises(MappingError) as refused:
        map_header(["Name", "Email"])
    message = str(refused.value)
    assert message.startswith("No id column and no creation-date column found.")
    assert "Columns found: 'Name', 'Email'." in message
    assert "'Lead ID'" in message and "'Created Date'" in message
