"""How commands print: JSON on stdout for scripts, errors as JSON on stderr with exit 1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import click
from flask import current_app
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database
from shopify_loyalty.errors import LoyaltyError


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot print {type(value).__name__}")


def emit(value: Any) -> None:
    click.echo(json.dumps(value, default=_default, ensure_ascii=False))


def id_list(text: str | None) -> list[int]:
    if not text:
        return []
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise click.BadParameter(f"comma-separated numeric ids, not {text!r}") from exc


def instant(text: str) -> datetime:
    """An ISO 8601 date-time; UTC if it has no offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"an ISO date-time, not {text!r}") from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def word_list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


@contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work; a domain error becomes a JSON error on stderr and exit status 1."""
    db: Database = current_app.extensions["loyalty_db"]
    try:
        with db.unit_of_work() as session:
            yield session
    except LoyaltyError as exc:
        click.echo(json.dumps(exc.to_dict(), default=_default), err=True)
        raise SystemExit(1) from exc
