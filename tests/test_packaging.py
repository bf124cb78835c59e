"""The wheel carries the whole app: every package, the templates and the migrations."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from linktracker.migrate import migrations_folder

ROOT = Path(__file__).resolve().parents[1]


def _setuptools() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return dict(tomllib.load(file)["tool"]["setuptools"])


def test_every_package_under_linktracker_is_listed_for_the_wheel() -> None:
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "linktracker").rglob("__init__.py")
    }
    listed = set(_setuptools()["packages"])
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def test_the_migrations_folder_ships_as_linktracker_migrations() -> None:
    setuptools = _setuptools()
    assert setuptools["package-dir"] == {"linktracker.migrations": "migrations"}
    assert {"linktracker.migrations", "linktracker.migrations.versions"} <= set(
        setuptools["packages"]
    )
    assert "script.py.mako" in setuptools["package-data"]["linktracker.migrations"]


def test_alembic_reads_the_migrations_from_the_installed_package() -> None:
    folder = migrations_folder()
    assert folder.resolve() == (ROOT / "migrations").resolve()
    assert (folder / "env.py").is_file() and (folder / "script.py.mako").is_file()
    assert any(folder.glob("versions/*_initial_schema_*.py"))
