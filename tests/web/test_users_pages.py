"""The user pages: create users, reset passwords, deactivate; old sessions end."""

from __future__ import annotations

import pytest

from linktracker.auth.models import User
from linktracker.auth.services import find_user_by_email
from tests.factories import make_employee
from tests.web.clients import PASSWORD, text


def test_admin_creates_a_user_who_is_linked_to_their_employee(session, sign_in):
    employee = make_employee(session, email="adv@example.com")
    client = sign_in("admin")
    response = client.post(
        "/app/users/", data={"email": "adv@example.com", "role": "employee", "password": PASSWORD}
    )
    assert response.status_code == 302
    user = find_user_by_email(session, "adv@example.com")
    assert user is not None and user.employee_id == employee.id
    short = client.post(
        "/app/users/", data={"email": "x@example.com", "role": "admin", "password": "short"}
    )
    assert short.status_code == 422
    assert "At least 10 characters" in text(short)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "Set a password: an account without one cannot sign in."),
        ("password12", "This password is too easy to guess."),
        ("aaaaaaaaaa", "This password is too easy to guess."),
    ],
)
def test_admin_cannot_create_a_user_without_a_usable_password(session, sign_in, password, message):
    client = sign_in("admin")
    response = client.post(
        "/app/users/", data={"email": "new@example.com", "role": "marketer", "password": password}
    )
    assert response.status_code == 422
    assert message in text(response)
    assert find_user_by_email(session, "new@example.com") is None


def test_a_password_reset_refuses_a_common_password(app, session, sign_in):
    sign_in("marketer", "m@example.com")
    user = find_user_by_email(session, "m@example.com")
    admin = sign_in("admin")
    weak = admin.post(
        f"/app/users/{user.id}/password", data={"password": "password12", "confirm": "password12"}
    )
    assert weak.status_code == 422 and "This password is too easy to guess." in text(weak)
    refused = app.test_client().post(
        "/app/login", data={"email": "m@example.com", "password": "password12"}
    )
    assert refused.status_code == 401


def test_a_user_without_a_password_is_shown_as_unable_to_sign_in(session, sign_in):
    legacy = User(email="old@example.com", role="marketer", password_hash=None)
    session.add(legacy)
    session.commit()
    page = sign_in("admin").get("/app/users/")
    assert "no password: cannot sign in until one is set" in text(page)


def test_admin_resets_a_password_and_the_old_sessions_end(app, session, sign_in):
    victim = sign_in("marketer", "m@example.com")
    user = find_user_by_email(session, "m@example.com")
    admin = sign_in("admin")
    mismatch = admin.post(
        f"/app/users/{user.id}/password", data={"password": "a" * 12, "confirm": "b" * 12}
    )
    assert mismatch.status_code == 422 and "The two passwords differ." in text(mismatch)
    new = "nine quiet lanterns"
    done = admin.post(f"/app/users/{user.id}/password", data={"password": new, "confirm": new})
    assert done.status_code == 302
    assert victim.get("/app/campaigns/").headers["Location"].startswith("/app/login")
    signed_in = app.test_client().post(
        "/app/login", data={"email": "m@example.com", "password": new}
    )
    assert signed_in.status_code == 302


def test_deactivating_a_user_signs_them_out_but_admins_cannot_deactivate_themselves(
    session, sign_in
):
    victim = sign_in("marketer", "m@example.com")
    user = find_user_by_email(session, "m@example.com")
    admin = sign_in("admin", "root@example.com")
    me = find_user_by_email(session, "root@example.com")
    assert admin.post(f"/app/users/{user.id}/active", data={"active": "0"}).status_code == 302
    assert victim.get("/app/campaigns/").headers["Location"].startswith("/app/login")
    own = admin.post(f"/app/users/{me.id}/active", data={"active": "0"})
    assert own.status_code == 403
    session.expire_all()
    assert find_user_by_email(session, "root@example.com").active is True
