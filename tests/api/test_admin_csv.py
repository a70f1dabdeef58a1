"""CSV export of customers and ledger; CSV import of starting balances."""

from __future__ import annotations

import csv
import io

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests import factories
from tests.api.test_admin import admin

GOOD_BAD_REPEATED = (
    "customerId,points,email\n"
    "3001,250,ann@example.com\n"
    "3002,abc,bob@example.com\n"
    "-5,10,\n"
    "3003,0,\n"
    "3001,250,ann@example.com\n"
    "3004,99999999999,\n"
    "3005,40,\n"
)


def test_import_good_bad_and_repeated_rows(client: FlaskClient, session: Session) -> None:
    shop = factories.shop(session, access_token_enc="x", settings={})
    session.commit()
    headers = {**admin(shop.domain), "Content-Type": "text/csv"}
    report = client.post("/api/admin/imports/balances", headers=headers,
                         data=GOOD_BAD_REPEATED).json
    assert report["imported"] == 2
    assert [(r["line"], r["reason"].split()[0]) for r in report["rejected"]] == [
        (3, "points"), (4, "customerId"), (5, "points"), (6, "already"), (7, "points")]

    again = client.post("/api/admin/imports/balances", headers=headers,
                        data=GOOD_BAD_REPEATED).json
    assert again["imported"] == 0

    ann = client.get("/api/admin/customers/3001", headers=admin(shop.domain)).json
    assert (ann["availablePoints"], ann["email"]) == (250, "ann@example.com")

    exported = client.get("/api/admin/exports/customers.csv", headers=admin(shop.domain))
    assert exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert {(r["customerId"], r["availablePoints"]) for r in rows} == {("3001", "250"),
                                                                     ("3005", "40")}
    ledger = list(csv.DictReader(io.StringIO(client.get(
        "/api/admin/exports/ledger.csv", headers=admin(shop.domain)).get_data(as_text=True))))
    assert sorted(r["sourceId"] for r in ledger) == ["3001", "3005"]


def test_a_file_without_the_columns_is_422(client: FlaskClient, session: Session) -> None:
    shop = factories.shop(session, access_token_enc="x", settings={})
    session.commit()
    for data in ("", "name,balance\nx,1\n", b"\xff\xfe\x00bad", "customerId\r,points\n"):
        response = client.post("/api/admin/imports/balances", headers=admin(shop.domain),
                               data=data)
        assert response.status_code == 422


def test_exports_hold_only_the_shops_own_rows(client: FlaskClient, session: Session) -> None:
    mine = factories.shop(session, access_token_enc="x", settings={})
    other = factories.shop(session, access_token_enc="x", settings={})
    factories.customer(session, mine, 4001, points=10, email="=HYPERLINK(1)")
    factories.customer(session, other, 4002, points=20)
    session.commit()
    text = client.get("/api/admin/exports/customers.csv",
                      headers=admin(mine.domain)).get_data(as_text=True)
    assert "4001" in text and "4002" not in text
    assert "'=HYPERLINK" in text
    ledger = client.get("/api/admin/exports/ledger.csv",
                        headers=admin(other.domain)).get_data(as_text=True)
    assert "4002" in ledger and "4001" not in ledger
