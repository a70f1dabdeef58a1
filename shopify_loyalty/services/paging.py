"""One page of a query's rows and the total, for every paged list (``page`` from 0)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int


def page_of(session: Session, query: Select[T], page: int, size: int) -> Page[T]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = session.scalars(query.offset(page * size).limit(size)).all()
    return Page(items, total or 0)
