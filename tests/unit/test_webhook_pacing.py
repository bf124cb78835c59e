"""The delivery thread's pacing: after a round that took much CPU it rests in proportion, so
it never takes more than CPU_SHARE of a core from the redirects beside it."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.orm import sessionmaker

from linktracker.webhooks.deliverer import CPU_SHARE, WebhookDeliverer, rest_after


def test_a_cheap_round_rests_the_poll_interval() -> None:
    assert rest_after(0.001, 2.0) == 2.0
    assert rest_after(0.0, 0.1) == 0.1


def test_a_costly_round_rests_long_enough_to_keep_the_thread_at_its_share() -> None:
    used = 0.5
    rest = rest_after(used, 2.0)
    assert rest == pytest.approx(used * (1 / CPU_SHARE - 1))
    assert used / (used + rest) == pytest.approx(CPU_SHARE)
    assert rest_after(0.2, 2.0, share=0.5) == 2.0  # a larger share: the poll interval rules


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_the_thread_rests_after_a_round_that_burned_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds: list[float] = []
    monkeypatch.setattr("linktracker.webhooks.deliverer.deliver_due", lambda *a, **k: None)

    def costly_round() -> None:
        rounds.append(time.monotonic())
        _burn(0.05)  # 50 ms of CPU: at 5 % of a core, about a second of rest

    deliverer = WebhookDeliverer(
        sessionmaker(), allow_private=True, timeout=1, before_round=costly_round,
        poll_seconds=0.01,
    )  # fmt: skip
    deliverer.start()
    try:
        time.sleep(0.6)
        assert len(rounds) == 1  # with the poll interval alone there would be dozens
        deadline = time.monotonic() + 5
        while len(rounds) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(rounds) == 2
        assert rounds[1] - rounds[0] >= 0.05 * (1 / CPU_SHARE - 1) * 0.9
    finally:
        deliverer.stop()
