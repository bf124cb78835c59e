"""Campaign post texts: written in the API and the campaign form, read back, refused when bad."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign, PostText
from tests.factories import make_campaign
from tests.web.clients import SignIn, text

Headers = Callable[..., dict[str, str]]
LAUNCH = {"name": "Launch", "destination_url": "https://www.example.com/launch"}


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_campaign_is_created_with_post_texts_and_reads_them_back_in_order(
    client: FlaskClient, api_headers: Headers
) -> None:
    texts = [
        {"channel": None, "text": "  Our spring launch is here.  "},
        {"channel": "x", "text": "Spring launch! #launch"},
        {"channel": "LinkedIn", "text": "Proud of the team behind this launch."},
    ]
    made = client.post(
        "/api/v1/campaigns", json={**LAUNCH, "post_texts": texts}, headers=api_headers()
    )
    assert made.status_code == 201
    expected = [
        {"channel": None, "text": "Our spring launch is here."},
        {"channel": "x", "text": "Spring launch! #launch"},
        {"channel": "linkedin", "text": "Proud of the team behind this launch."},
    ]
    assert made.json["post_texts"] == expected
    read = client.get("/api/v1/campaigns/launch", headers=api_headers("marketer"))
    assert read.status_code == 200 and read.json["post_texts"] == expected


def test_post_texts_are_replaced_and_removed_through_the_api(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    two = [{"channel": None, "text": "One"}, {"channel": None, "text": "Two"}]
    client.post("/api/v1/campaigns", json={**LAUNCH, "post_texts": two}, headers=api_headers())
    replaced = client.put(
        "/api/v1/campaigns/launch/post_texts",
        json={"post_texts": [{"channel": "email", "text": "Three"}]},
        headers=api_headers(),
    )
    assert replaced.status_code == 200
    assert replaced.json["post_texts"] == [{"channel": "email", "text": "Three"}]
    emptied = client.put(
        "/api/v1/campaigns/launch/post_texts", json={"post_texts": []}, headers=api_headers()
    )
    assert emptied.json["post_texts"] == [] and _count(session, PostText) == 0


@pytest.mark.parametrize(
    ("post_texts", "field", "message"),
    [
        ([{"channel": None, "text": "   "}], "post_texts.0.text", "Write the text"),
        ([{"channel": "x", "text": "a" * 257}], "post_texts.0.text", "keep the text to 256"),
        ([{"channel": None, "text": "b" * 3001}], "post_texts.0.text", "At most 3000"),
        ([{"channel": None, "text": "nul\x00"}], "post_texts.0.text", "NUL"),
        (
            [{"channel": None, "text": "ok"}, {"channel": "myspace", "text": "x"}],
            "post_texts.1.channel",
            "Unknown channel 'myspace'",
        ),  # fmt: skip
        ([{"channel": "whatsapp", "text": "x"}], "post_texts.0.channel", "not one of this"),
        ([{"channel": None, "text": "x"}] * 21, "post_texts", "At most 20 post texts"),
        ("not a list", "post_texts", "Must be a list"),
        (["text alone"], "post_texts.0", "Must be an object"),
        ([{"channel": 3, "text": "x"}], "post_texts.0.channel", "string or null"),
        ([{"channel": None}], "post_texts.0.text", "Must be a string"),
    ],
)
def test_bad_post_texts_are_refused_with_the_field_and_nothing_is_saved(
    client: FlaskClient,
    api_headers: Headers,
    session: Session,
    post_texts: object,
    field: str,
    message: str,
) -> None:
    response = client.post(
        "/api/v1/campaigns", json={**LAUNCH, "post_texts": post_texts}, headers=api_headers()
    )
    assert response.status_code == 422
    assert message in response.json["fields"][field]
    assert _count(session, Campaign) == 0 and _count(session, PostText) == 0


def test_a_refused_replacement_keeps_the_post_texts_there_were(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    client.post("/api/v1/campaigns", json={**LAUNCH, "post_texts": [{"channel": None,
                "text": "Kept"}]}, headers=api_headers())  # fmt: skip
    response = client.put(
        "/api/v1/campaigns/launch/post_texts",
        json={"post_texts": [{"channel": None, "text": "New"}, {"channel": None, "text": ""}]},
        headers=api_headers(),
    )
    assert response.status_code == 422
    assert response.json["fields"] == {
        "post_texts.1.text": "Write the text, or remove the variant."
    }
    assert client.get("/api/v1/campaigns/launch", headers=api_headers()).json["post_texts"] == [
        {"channel": None, "text": "Kept"}
    ]
    missing = client.put("/api/v1/campaigns/nope/post_texts", json={"post_texts": []},
                         headers=api_headers())  # fmt: skip
    assert missing.status_code == 404


def test_employees_cannot_read_or_write_campaigns_through_the_api(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    make_campaign(session, slug="launch")
    employee = api_headers("employee")
    assert client.get("/api/v1/campaigns/launch", headers=employee).status_code == 403
    put = client.put("/api/v1/campaigns/launch/post_texts", json={"post_texts": []},
                     headers=employee)  # fmt: skip
    assert put.status_code == 403


def _form(**extra: object) -> dict[str, object]:
    return {"name": "Launch", "destination_url": "https://www.example.com/launch",
            "channels": ["linkedin", "x"], "goal": "leads", **extra}  # fmt: skip


def test_the_campaign_form_saves_post_text_variants_and_drops_blank_rows(
    session: Session, sign_in: SignIn
) -> None:
    client = sign_in("marketer")
    response = client.post(
        "/app/campaigns/new",
        data=_form(post_text_channel=["", "x", ""], post_text=["For all", "For X", "  "]),
    )
    assert response.status_code == 302
    campaign = session.scalar(select(Campaign))
    assert campaign is not None
    rows = session.scalars(select(PostText).order_by(PostText.position)).all()
    assert [(r.channel, r.text) for r in rows] == [(None, "For all"), ("x", "For X")]
    detail = text(client.get(f"/app/campaigns/{campaign.id}"))
    assert "Every channel</span> For all" in detail and "X</span> For X" in detail
    edit = text(client.get(f"/app/campaigns/{campaign.id}/edit"))
    assert ">For all</textarea>" in edit and ">For X</textarea>" in edit
    saved = client.post(
        f"/app/campaigns/{campaign.id}/edit",
        data=_form(post_text_channel=["linkedin"], post_text=["Only LinkedIn"]),
    )
    assert saved.status_code == 302
    session.expire_all()
    rows = session.scalars(select(PostText)).all()
    assert [(r.channel, r.text) for r in rows] == [("linkedin", "Only LinkedIn")]


def test_a_bad_variant_in_the_form_is_shown_beside_its_row_and_nothing_is_saved(
    session: Session, sign_in: SignIn
) -> None:
    response = sign_in("marketer").post(
        "/app/campaigns/new",
        data=_form(post_text_channel=["", "email"], post_text=["Fine", "Mail text"]),
    )
    assert response.status_code == 422
    body = text(response)
    assert 'id="post-text-channel-1-error">' in body
    assert "&#39;email&#39; is not one of this campaign&#39;s channels" in body
    assert ">Mail text</textarea>" in body  # what was typed is kept
    assert _count(session, Campaign) == 0 and _count(session, PostText) == 0
