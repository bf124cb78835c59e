"""linktracker: personal UTM short links, click logging, CRM attribution and reports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app (``linktracker.app``).

    Flask and the app's modules are imported on the first call, not with the package: a
    process that needs one domain module, such as an import's parsing process, starts
    without paying for their import.
    """
    from linktracker.app import create_app as build

    return build(config)
