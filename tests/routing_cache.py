"""Werkzeug compiles two URL builders per route for every app; the tests build an app per test.

The builder's code depends only on the rule's text, its parsed parts and its defaults' names, so
the tests reuse the compiled function across apps instead of compiling it again (about 80% of
``create_app``'s time). Werkzeug itself is unchanged outside the test process.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from werkzeug.routing import Rule

_Builder = Callable[..., tuple[str, str]]
_compile = Rule._compile_builder
_compiled: dict[Hashable, _Builder] = {}


def builder_key(rule: Rule, append_unknown: bool) -> Hashable | None:
    """What the compiled builder depends on; None when a default fills a URL part (not cached)."""
    defaults = rule.defaults or {}
    trace = tuple(rule._trace)
    if any(dynamic and part in defaults for dynamic, part in trace):
        return None
    return (rule.rule, trace, append_unknown, tuple(str(name) for name in defaults))


def _cached_compile_builder(self: Rule, append_unknown: bool = True) -> _Builder:
    key = builder_key(self, append_unknown)
    if key is None:
        return _compile(self, append_unknown)
    if key not in _compiled:
        _compiled[key] = _compile(self, append_unknown)
    return _compiled[key]


def reuse_compiled_builders() -> None:
    """Install the cache (idempotent)."""
    setattr(Rule, "_compile_builder", _cached_compile_builder)  # noqa: B010


def compile_uncached(rule: Rule, append_unknown: bool) -> Any:
    return _compile(rule, append_unknown)
