"""The tests' cache of Werkzeug's URL builders gives the code Werkzeug would have compiled."""

from __future__ import annotations

from flask import Flask, url_for
from werkzeug.routing import Rule

from tests.routing_cache import builder_key, compile_uncached


def test_every_route_of_the_app_gets_the_builder_werkzeug_compiles(app: Flask) -> None:
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 50
    for rule in rules:
        for append_unknown in (False, True):
            cached = rule._compile_builder(append_unknown)
            assert cached.__code__ == compile_uncached(rule, append_unknown).__code__, rule.rule


def test_two_apps_build_the_same_urls(app: Flask, config: dict[str, object]) -> None:
    from linktracker import create_app

    other = create_app(config)
    try:
        for first in (app, other):
            with first.test_request_context():
                assert url_for("static", filename="a b.css") == "/static/a%20b.css"
                assert url_for("static", filename="x.js", v="1 2") == "/static/x.js?v=1+2"
    finally:
        other.extensions["linktracker"].dispose()


def test_a_default_filling_a_url_part_is_not_cached() -> None:
    app = Flask(__name__)
    app.add_url_rule("/page/<int:n>", "page", defaults={"n": 1})
    app.add_url_rule("/items/<int:n>", "items")
    filled, plain = (app.url_map._rules_by_endpoint[name][0] for name in ("page", "items"))
    assert builder_key(filled, True) is None
    assert builder_key(plain, True) is not None
    with app.test_request_context():
        assert url_for("page") == "/page/1"
        assert url_for("items", n=7) == "/items/7"


def test_rules_differing_only_in_defaults_names_get_their_own_builder() -> None:
    bare = Rule("/r", endpoint="a")
    named = Rule("/r", endpoint="b", defaults={"lang": "en"})
    Flask(__name__).url_map.add(bare)
    other = Flask(__name__)
    other.url_map.add(named)
    assert builder_key(bare, False) != builder_key(named, False)
