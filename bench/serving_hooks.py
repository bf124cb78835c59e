"""gunicorn settings for the bench's app servers: each worker starts what `linktracker run`
starts in its workers (the click writer and the webhook delivery thread).

    gunicorn -c python:bench.serving_hooks wsgi:app
"""

from __future__ import annotations

from typing import Any


def post_worker_init(worker: Any) -> None:
    worker.wsgi.extensions["linktracker"].start_serving()
