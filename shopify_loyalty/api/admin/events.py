"""The embedded admin API's outbound webhooks: event endpoints and their deliveries."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from shopify_loyalty.api.admin.common import TOTAL, authenticate, json_response, paged, shop_of
from shopify_loyalty.api.admin.event_schemas import (
    EventDeliveriesArgsSchema,
    EventDeliverySchema,
    EventEndpointCreatedSchema,
    EventEndpointCreateSchema,
    EventEndpointPatchSchema,
    EventEndpointSchema,
)
from shopify_loyalty.api.context import database, settings
from shopify_loyalty.api.schemas import ErrorSchema, PageArgsSchema
from shopify_loyalty.db import utcnow
from shopify_loyalty.models import DeliveryStatus
from shopify_loyalty.services.events import deliveries, endpoints
from shopify_loyalty.services.shops import tokens as shop_tokens

blp = Blueprint("admin_events", __name__, url_prefix="/api/admin",
                description="Embedded admin: outbound webhooks (event endpoints, deliveries).")
blp.before_request(authenticate)


def policy() -> endpoints.EndpointPolicy:
    return endpoints.EndpointPolicy(shop_tokens.context_of(database()).cipher,
                                    settings().event_endpoints_allow_private)


def _endpoint(row: Any, **extra: Any) -> Any:
    return {**EventEndpointSchema().dump(endpoints.describe(row)), **extra}


@blp.route("/event-endpoints")
class EventEndpoints(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, EventEndpointSchema(many=True), headers=TOTAL)
    def get(self, args: dict[str, Any]) -> Response:
        """The shop's endpoints, oldest first."""
        with database().unit_of_work() as session:
            page = endpoints.endpoints(session, shop_of(session), args["page"], args["size"])
            return paged([_endpoint(row) for row in page.items], page.total)

    @blp.arguments(EventEndpointCreateSchema)
    @blp.response(201, EventEndpointCreatedSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def post(self, body: dict[str, Any]) -> Response:
        """Add an endpoint; its signing secret is in this answer only."""
        with database().unit_of_work() as session:
            row, secret = endpoints.add_endpoint(session, shop_of(session), body["url"],
                                                 body.get("eventTypes"), policy())
            return json_response(_endpoint(row, secret=secret), 201)


@blp.route("/event-endpoints/<int:endpoint_id>")
class EventEndpointItem(MethodView):
    @blp.arguments(EventEndpointPatchSchema)
    @blp.response(200, EventEndpointSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def patch(self, body: dict[str, Any], endpoint_id: int) -> Response:
        """Change the URL, the event types (null: every type) or enable/disable it."""
        changes = {key: body[name] for name, key in
                   (("url", "url"), ("eventTypes", "event_types"), ("enabled", "enabled"))
                   if name in body}
        with database().unit_of_work() as session:
            row = endpoints.update_endpoint(session, shop_of(session), endpoint_id, changes,
                                            policy())
            return json_response(_endpoint(row))

    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema)
    def delete(self, endpoint_id: int) -> Response:
        """Remove the endpoint and its deliveries."""
        with database().unit_of_work() as session:
            endpoints.delete_endpoint(session, shop_of(session), endpoint_id)
        return Response(status=204)


@blp.route("/event-deliveries")
class EventDeliveries(MethodView):
    @blp.arguments(EventDeliveriesArgsSchema, location="query")
    @blp.response(200, EventDeliverySchema(many=True), headers=TOTAL)
    def get(self, args: dict[str, Any]) -> Response:
        """The shop's deliveries, newest first; ``failed=true``: retrying and FAILED."""
        status = DeliveryStatus(args["status"]) if args.get("status") else None
        with database().unit_of_work() as session:
            page = deliveries.deliveries(session, shop_of(session), args["page"], args["size"],
                                         endpoint_id=args.get("endpointId"), status=status,
                                         failed=args["failed"])
            rows = deliveries.describe(list(page.items), session)
            return paged(EventDeliverySchema(many=True).dump(rows), page.total)


@blp.route("/event-deliveries/<int:delivery_id>/replay")
class ReplayDelivery(MethodView):
    @blp.response(202, EventDeliverySchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    def post(self, delivery_id: int) -> Response:
        """Send it again now: the same webhook-id, a fresh timestamp and signature."""
        db = database()
        with db.unit_of_work() as session:
            shop = shop_of(session)
            deliveries.replay(session, delivery_id, utcnow(), shop=shop)
        # Without a broker the attempt ran right after the commit: show where it stands.
        with db.unit_of_work() as session:
            row = deliveries.delivery(session, shop_of(session), delivery_id)
            body = EventDeliverySchema().dump(deliveries.describe([row], session)[0])
            return json_response(body, 202)
