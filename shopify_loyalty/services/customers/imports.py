"""Importing starting balances from another loyalty app, from CSV.

Columns: ``customerId`` (Shopify id, required), ``points`` (required, ≥ 1), ``email``
(optional). Each customer's starting balance is one ADJUSTED ledger row with source
("import", customerId), so importing the same file twice, or a row twice, posts once.
Every row is answered in the report: imported, or rejected with the reason.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.errors import ValidationError
from shopify_loyalty.models import LedgerKind, PointTransaction, Shop
from shopify_loyalty.services.customers.enrolment import enrol
from shopify_loyalty.services.points import ledger

MAX_ROWS = 20_000
# The same bounds as the JSON API's (api.fields): a BIGINT id, a sane balance.
MAX_ID = 2**63 - 1
MAX_POINTS = 1_000_000_000
REQUIRED = ("customerId", "points")


@dataclass
class ImportReport:
    imported: int = 0
    rejected: list[dict[str, object]] = field(default_factory=list)


def _whole(text: str | None, low: int, high: int) -> int | None:
    text = (text or "").strip()
    if not text.isdigit():
        return None
    value = int(text)
    return value if low <= value <= high else None


def _already(session: Session, shop: Shop, customer_id: int) -> bool:
    return session.scalar(select(PointTransaction.id).where(
        PointTransaction.shop_id == shop.id, PointTransaction.kind == LedgerKind.ADJUSTED,
        PointTransaction.source_type == "import", PointTransaction.source_id == str(customer_id),
    )) is not None


def import_balances(session: Session, shop: Shop, text: str) -> ImportReport:
    """Raises ValidationError when the file itself is unusable (no header, too many rows)."""
    # newline="": the csv module reads a bare \r as a line end, as the csv docs ask, instead of
    # refusing the whole file with csv.Error (a 500).
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or any(c not in reader.fieldnames for c in REQUIRED):
        raise ValidationError(errors={"file": [f"A CSV with columns {', '.join(REQUIRED)}."]})
    report = ImportReport()
    for number, row in enumerate(reader, start=2):  # line 1 is the header
        if number - 1 > MAX_ROWS:
            raise ValidationError(errors={"file": [f"At most {MAX_ROWS} rows."]})
        reason = _import_row(session, shop, row)
        if reason is None:
            report.imported += 1
        else:
            report.rejected.append({"line": number, "customerId": row.get("customerId"),
                                    "reason": reason})
    return report


def _import_row(session: Session, shop: Shop, row: dict[str, str | None]) -> str | None:
    """None when imported, else why not."""
    customer_id = _whole(row.get("customerId"), 1, MAX_ID)
    if customer_id is None:
        return "customerId must be a Shopify customer id"
    points = _whole(row.get("points"), 1, MAX_POINTS)
    if points is None:
        return f"points must be a whole number from 1 to {MAX_POINTS}"
    if _already(session, shop, customer_id):
        return "already imported"
    with session.begin_nested():
        customer = enrol(session, shop, customer_id)
        email = (row.get("email") or "").strip()
        if email and not customer.email:
            customer.email = email[:320]
        ledger.post(session, customer, LedgerKind.ADJUSTED, points,
                    ledger.Source("import", str(customer_id)), note="Starting balance imported")
    return None
