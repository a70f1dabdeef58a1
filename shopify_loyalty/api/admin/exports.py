"""The embedded admin API's CSV exports and the import of starting balances."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, g, jsonify, request, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy.orm import Session

from shopify_loyalty.api.admin.common import authenticate
from shopify_loyalty.api.context import database
from shopify_loyalty.api.schemas import ErrorSchema
from shopify_loyalty.errors import ValidationError
from shopify_loyalty.models import Shop
from shopify_loyalty.services.customers import imports
from shopify_loyalty.services.points import exports

blp = Blueprint("admin_exports", __name__, url_prefix="/api/admin",
                description="Embedded admin: CSV exports and the balance import.")
blp.before_request(authenticate)


class RejectedRowSchema(Schema):
    line = fields.Integer()
    customerId = fields.String(allow_none=True)
    reason = fields.String()


class ImportReportSchema(Schema):
    imported = fields.Integer()
    rejected = fields.List(fields.Nested(RejectedRowSchema))


def _csv(name: str, rows: Callable[[Session, Shop], Iterator[str]]) -> Response:
    shop_id = g.admin_shop_id

    def generate() -> Iterator[str]:
        with database().unit_of_work() as session:
            yield from rows(session, session.get_one(Shop, shop_id))

    return Response(stream_with_context(generate()), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


@blp.route("/exports/customers.csv")
class CustomersCsv(MethodView):
    @blp.response(200, description="CSV: customers with their balances")
    def get(self) -> Response:
        return _csv("customers.csv", exports.customers_csv)


@blp.route("/exports/ledger.csv")
class LedgerCsv(MethodView):
    @blp.response(200, description="CSV: every ledger row")
    def get(self) -> Response:
        return _csv("ledger.csv", exports.ledger_csv)


@blp.route("/imports/balances")
class ImportBalances(MethodView):
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @blp.doc(requestBody={"required": True, "content": {
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                           "properties": {"file": {"type": "string",
                                                                   "format": "binary"}}}}}})
    def post(self) -> Response:
        """Starting balances from another app: ``customerId,points[,email]``; each customer
        once, however often the file is sent; the report lists each rejected row and why."""
        upload = request.files.get("file")
        raw = upload.read() if upload is not None else request.get_data()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError(errors={"file": ["UTF-8 text, please."]}) from exc
        with database().unit_of_work() as session:
            report = imports.import_balances(session, session.get_one(Shop, g.admin_shop_id),
                                             text)
            body: Any = {"imported": report.imported, "rejected": report.rejected}
            return jsonify(ImportReportSchema().dump(body))
