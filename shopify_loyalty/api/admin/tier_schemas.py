"""marshmallow schemas of the admin API's VIP tiers and tier assignment (camelCase)."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from shopify_loyalty.api.fields import MAX_ID, Flag, WholeNumber
from shopify_loyalty.services.program import tiers


def _decimal(low: Decimal, high: Decimal, **kwargs: Any) -> fields.Decimal:
    # The bounds go into the spec as numbers (metadata): apispec prints the Range of a
    # Decimal field through the field, as strings, which is no OpenAPI minimum.
    metadata = {"minimum": int(low), "maximum": int(high), **kwargs.pop("metadata", {})}
    # Worded as the service words it, so the admin form reads the same whichever refuses.
    return fields.Decimal(allow_nan=False,
                          validate=validate.Range(min=low, max=high, error="From {min} to {max}."),
                          metadata=metadata, **kwargs)


class VipTierPatchSchema(Schema):
    """Changes to a tier; every field optional. Unknown fields are refused."""

    name = fields.String(validate=validate.Length(min=1, max=255))
    threshold = _decimal(Decimal(0), tiers.MAX_THRESHOLD,
                         metadata={"description": "In the shop's tier metric."})
    earnMultiplier = _decimal(Decimal(1), tiers.MAX_MULTIPLIER)
    entryPoints = WholeNumber(validate=validate.Range(min=0, max=tiers.MAX_ENTRY_POINTS))
    perks = fields.String(allow_none=True, validate=validate.Length(max=tiers.MAX_PERKS_LENGTH))
    active = Flag()


class VipTierCreateSchema(VipTierPatchSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    threshold = _decimal(Decimal(0), tiers.MAX_THRESHOLD, required=True,
                         metadata={"description": "In the shop's tier metric."})


class VipTierAdminSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    threshold = fields.Float()
    earnMultiplier = fields.Float()
    entryPoints = fields.Integer()
    perks = fields.String(allow_none=True)
    active = Flag()


class VipTierListArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # cache-busting and tracking parameters are harmless

    members = fields.Boolean(load_default=True,
                             metadata={"description": "false: leave the counts out."})


class VipTierListedSchema(VipTierAdminSchema):
    members = fields.Integer(metadata={"description": "Customers who hold the tier now "
                                       "(left out with members=false)."})


class TierAssignmentSchema(Schema):
    """The merchant's choice of tier; ``tierId`` null takes the tier away."""

    tierId = WholeNumber(required=True, allow_none=True,
                         validate=validate.Range(min=1, max=MAX_ID))
    until = fields.AwareDateTime(allow_none=True, load_default=None, default_timezone=UTC,
                                 metadata={"description": "Default: the shop's tier period, "
                                           "as if reached now (never, for LIFETIME)."})
