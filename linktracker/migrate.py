"""Alembic driven from code: `linktracker db upgrade` and the serve command use this."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from linktracker.crm.indexes import restore_indexes


def migrations_folder() -> Path:
    """Alembic's script folder: migrations/, installed as the package linktracker.migrations."""
    try:
        folder = resources.files("linktracker.migrations")
    except ModuleNotFoundError as exc:
        # An editable install made before the folder was part of the package.
        raise RuntimeError(
            "linktracker.migrations is not installed: reinstall the package "
            "(pip install -e . in a checkout)."
        ) from exc
    return Path(str(folder))


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at migrations/ and the given database."""
    config = Config()
    config.set_main_option("script_location", str(migrations_folder()))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to `revision`.

    At the head it also puts back CRM record indexes that a bulk import whose process was
    killed left dropped (``crm.indexes``).
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        if revision == "head":
            restore_indexes(connection)


def head_revisions() -> tuple[str, ...]:
    """The head revisions of migrations/ (a healthy tree has exactly one)."""
    return tuple(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
