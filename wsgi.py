"""WSGI entry point: `gunicorn wsgi:app`."""

from linktracker import create_app

app = create_app()
