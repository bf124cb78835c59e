"""clear_database (run before every test) leaves the tables empty and the ids restarted."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from linktracker.auth.services import create_token, create_user
from linktracker.models import Base
from tests import factories
from tests.support import PASSWORD, clear_database


def _counts(session: Session) -> dict[str, int]:
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


def test_every_table_is_emptied_and_the_ids_restart(app: Flask, session: Session) -> None:
    engine = app.extensions["linktracker"].engine
    create_user(session, "a@users.test", "admin", PASSWORD)
    create_token(session, "a@users.test")
    factories.make_click(session, factories.make_link(session))
    if engine.dialect.name == "postgresql":
        # An id drawn and never used (as a rolled-back insert leaves it), on an empty table.
        session.execute(text("SELECT nextval('webhooks_id_seq')"))
    session.commit()
    assert sum(_counts(session).values()) >= 6
    session.close()

    clear_database(engine)

    assert set(_counts(session).values()) == {0}
    user = create_user(session, "b@users.test", "admin", PASSWORD)
    link = factories.make_link(session)
    session.commit()
    assert (user.id, link.id, link.campaign_id, link.employee_id) == (1, 1, 1, 1)
    if engine.dialect.name == "postgresql":
        assert session.scalar(text("SELECT nextval('webhooks_id_seq')")) == 1
