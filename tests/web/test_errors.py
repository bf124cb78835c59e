"""Errors render in the app's look and never show the exception."""

from __future__ import annotations

from linktracker import create_app
from tests.web.clients import text


def test_errors_render_in_the_app_look(config):
    app = create_app({**config, "TESTING": False})

    @app.get("/app/boom")
    def boom() -> str:
        raise RuntimeError("kaboom")

    try:
        client = app.test_client()
        response = client.get("/app/boom")
        assert response.status_code == 500
        assert "Something went wrong" in text(response) and "kaboom" not in text(response)
        assert 'class="error-page"' in text(client.get("/app/nothing-here"))
    finally:
        app.extensions["linktracker"].dispose()
