"""A database that goes away mid-request (a restart, a failover, a terminated backend, too many
clients) is a 503 with Retry-After, in the error shape: the transaction rolled back, so the
client may send the same request again. Never a 500."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
import pytest
from flask.testing import FlaskClient
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from shopify_loyalty.services.customers import dashboard
from tests import factories
from tests.api.test_admin import admin


@pytest.mark.parametrize("lost", [
    OperationalError("SELECT 1", {}, psycopg.OperationalError(
        "terminating connection due to administrator command")),
    InterfaceError("SELECT 1", {}, psycopg.InterfaceError("the connection is closed")),
])
def test_a_lost_database_connection_is_a_503_to_retry(
    client: FlaskClient, session: Session, monkeypatch: pytest.MonkeyPatch, lost: Exception,
) -> None:
    shop = factories.shop(session, access_token_enc="not-used-here", settings={})
    session.commit()

    def gone(*_args: Any, **_kwargs: Any) -> datetime:
        raise lost

    monkeypatch.setattr(dashboard, "summary", gone)
    response = client.get("/api/admin/dashboard", headers=admin(shop.domain))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json == {"code": "database_unavailable", "status": 503,
                             "message": "The database is unavailable for a moment; try again."}
