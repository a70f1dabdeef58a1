from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import current_app
from flask.cli import AppGroup

from shopify_loyalty.db import Database

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@click.group(help="The database schema (Alembic migrations in migrations/).", cls=AppGroup)
def db() -> None:
    pass


@db.command(help="Apply every migration not yet applied.")
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str) -> None:
    database: Database = current_app.extensions["loyalty_db"]
    command.upgrade(alembic_config(database.url), revision)


@db.command(help="Write a new migration from the models (review it before committing).")
@click.option("-m", "--message", required=True)
def revision(message: str) -> None:
    database: Database = current_app.extensions["loyalty_db"]
    command.revision(alembic_config(database.url), message=message, autogenerate=True)
