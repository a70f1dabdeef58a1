"""marshmallow schemas of the admin API's event endpoints and deliveries (camelCase)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shopify_loyalty.api.fields import MAX_ID
from shopify_loyalty.api.schemas import PageArgsSchema
from shopify_loyalty.models import DeliveryStatus
from shopify_loyalty.services.events import catalog, urls


def _types() -> fields.List[str]:
    return fields.List(
        fields.String(validate=validate.OneOf(catalog.TYPES)), allow_none=True,
        validate=validate.Length(min=1, max=len(catalog.TYPES)),
        metadata={"description": "The event types sent to it; null: every type."})


# The shape of an endpoint URL; whether its scheme and addresses are allowed is the service's
# check (services.events.urls), as it depends on DNS and EVENT_ENDPOINTS_ALLOW_PRIVATE.
URL_SHAPE = r"^https?://[^\x00-\x20/?#]+([/?#][^\x00-\x20]*)?$"


def _url(required: bool) -> fields.String:
    return fields.String(
        required=required,
        validate=[validate.Length(min=1, max=urls.MAX_URL_LENGTH),
                  validate.Regexp(URL_SHAPE, error="Not an http(s) URL.")],
        metadata={"description": "https, on public addresses only (checked again at every "
                                 "send): 422 unsafe_endpoint_url otherwise."})


class EventEndpointCreateSchema(Schema):
    """Unknown fields are refused."""

    url = _url(required=True)
    eventTypes = _types()


class EventEndpointPatchSchema(Schema):
    url = _url(required=False)
    eventTypes = _types()
    enabled = fields.Boolean()


class EventEndpointSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    eventTypes = fields.List(fields.String(), allow_none=True)
    enabled = fields.Boolean()
    disabledReason = fields.String(allow_none=True)
    failingSince = fields.DateTime(allow_none=True)
    createdAt = fields.DateTime()


class EventEndpointCreatedSchema(EventEndpointSchema):
    secret = fields.String(metadata={"description": "whsec_…: shown this once only."})


class EventDeliveriesArgsSchema(PageArgsSchema):
    endpointId = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    status = fields.String(load_default=None,
                           validate=validate.OneOf([s.value for s in DeliveryStatus]))
    failed = fields.Boolean(load_default=False, metadata={
        "description": "Those waiting for a retry and those FAILED."})


class EventDeliverySchema(Schema):
    id = fields.Integer()
    endpointId = fields.Integer()
    eventId = fields.String(metadata={"description": "evt_…, the webhook-id header."})
    eventType = fields.String()
    status = fields.String(validate=validate.OneOf([s.value for s in DeliveryStatus]))
    attempts = fields.Integer()
    lastStatusCode = fields.Integer(allow_none=True)
    lastError = fields.String(allow_none=True)
    lastAttemptAt = fields.DateTime(allow_none=True)
    nextAttemptAt = fields.DateTime(allow_none=True)
    deliveredAt = fields.DateTime(allow_none=True)
    createdAt = fields.DateTime()
