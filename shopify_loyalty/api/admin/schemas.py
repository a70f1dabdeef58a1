"""marshmallow schemas of the admin and external APIs (camelCase, like the storefront's)."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from shopify_loyalty.api import fields as api_fields
from shopify_loyalty.api import spec_rules
from shopify_loyalty.api.admin import kind_rules
from shopify_loyalty.api.fields import (
    MAX_ID,
    MAX_MONEY,
    MAX_POINTS,
    Flag,
    WholeNumber,
    shopify_id,
)
from shopify_loyalty.api.schemas import (
    PageArgsSchema,
    RewardSchema,
    TierProgressSchema,
    TransactionSchema,
    _enum,
)
from shopify_loyalty.models import (
    CustomerStatus,
    EarnRuleKind,
    LimitInterval,
    RedeemRuleKind,
)


def money(**kwargs: Any) -> fields.Decimal:
    """An amount of money: not negative, two places, never NaN or infinite.

    The bounds are in the spec as numbers (metadata): apispec would print the Range of a
    Decimal field through the field, as strings, which is no OpenAPI minimum."""
    return fields.Decimal(places=2, allow_nan=False,
                          validate=validate.Range(min=0, max=MAX_MONEY),
                          metadata={"minimum": 0, "maximum": MAX_MONEY}, **kwargs)


def _ids(**kwargs: Any) -> fields.List[Any]:
    return fields.List(shopify_id(), validate=validate.Length(max=250), **kwargs)


def _rule_name(**kwargs: Any) -> fields.String:
    # Not only spaces (the service strips it), and no NUL (api.input_guard): anchored, so
    # that marshmallow's match() and the spec's search mean the same.
    return fields.String(validate=[validate.Length(min=1, max=255),
                                   validate.Regexp(r"^[^\x00]*[^\s\x00][^\x00]*$")], **kwargs)


class RedeemRulePatchSchema(Schema):
    """Changes to a redeem rule; every field optional. Unknown fields are refused."""

    name = _rule_name()
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))
    pointsCost = api_fields.points(allow_none=True)
    value = money(allow_none=True)
    maxShipping = money(allow_none=True)
    minSubtotal = money(allow_none=True)
    expiresInDays = WholeNumber(allow_none=True, validate=validate.Range(min=1, max=3650))
    variantIds = _ids()
    productIds = _ids()
    collectionIds = _ids()
    pointsPerUnit = api_fields.points(allow_none=True)
    minPoints = api_fields.points(allow_none=True)
    maxPoints = api_fields.points(allow_none=True)
    increment = api_fields.points(allow_none=True)
    combinesWith = fields.List(fields.String(validate=validate.OneOf(
        ["order", "product", "shipping"])))
    limitCount = WholeNumber(allow_none=True, validate=validate.Range(min=1, max=10_000))
    limitInterval = _enum(LimitInterval, allow_none=True)
    requiredTierId = WholeNumber(allow_none=True, validate=validate.Range(min=1, max=MAX_ID))
    active = Flag()


class RedeemRuleCreateSchema(RedeemRulePatchSchema):
    OPENAPI_RULES = kind_rules.REDEEM_RULE_CREATE

    name = _rule_name(required=True)
    kind = _enum(RedeemRuleKind, required=True)


class RedeemRuleSchema(RedeemRuleCreateSchema):
    id = fields.Integer()
    rewardType = fields.String()
    value = fields.Float(allow_none=True)  # type: ignore[assignment]
    maxShipping = fields.Float(allow_none=True)  # type: ignore[assignment]
    minSubtotal = fields.Float(allow_none=True)  # type: ignore[assignment]
    limitInterval = fields.String(allow_none=True)  # type: ignore[assignment]


class EarnRulePatchSchema(Schema):
    name = fields.String(allow_none=True, validate=validate.Length(max=255))
    points = api_fields.points(allow_none=True)
    pointsPerUnit = api_fields.points(allow_none=True)
    minOrder = money(allow_none=True)
    includeShipping = Flag()
    includeTax = Flag()
    pendingDays = WholeNumber(validate=validate.Range(min=0, max=365))
    network = fields.String(allow_none=True, validate=validate.Length(min=1, max=16))
    refereeValue = money(allow_none=True)
    refereeKind = fields.String(allow_none=True,
                                validate=validate.OneOf(["FIXED_AMOUNT", "PERCENTAGE"]))
    active = Flag()


class EarnRuleCreateSchema(EarnRulePatchSchema):
    OPENAPI_RULES = kind_rules.EARN_RULE_CREATE

    kind = _enum(EarnRuleKind, required=True)


class EarnRuleSchema(EarnRuleCreateSchema):
    id = fields.Integer()
    minOrder = fields.Float(allow_none=True)  # type: ignore[assignment]
    refereeValue = fields.Float(allow_none=True)  # type: ignore[assignment]


class CustomerSearchArgsSchema(PageArgsSchema):
    email = fields.String(validate=validate.Length(min=1, max=320))
    q = fields.String(validate=validate.Length(min=1, max=100))


class CustomerSchema(Schema):
    customerId = fields.Integer()  # type: ignore[assignment]
    email = fields.String(allow_none=True)
    firstName = fields.String(allow_none=True)
    lastName = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    customerStatus = _enum(CustomerStatus)
    availablePoints = fields.Integer()
    pendingPoints = fields.Integer()
    creditedPoints = fields.Integer()
    spentPoints = fields.Integer()
    spentAmount = fields.Float()
    storeCreditBalance = fields.Float()
    createdAt = fields.DateTime()
    dob = fields.Date(allow_none=True)
    referralCode = fields.String(allow_none=True)
    referredCompleted = fields.Integer()
    vipTierId = fields.Integer(allow_none=True)
    vipTierExpiredAt = fields.DateTime(allow_none=True)


class CustomerDetailSchema(CustomerSchema):
    tierProgress = fields.Nested(TierProgressSchema, allow_none=True, metadata={
        "description": "Progress in the shop's tier metric and to the next tier up; null "
                       "when the shop has no active tier."})
    rewards = fields.List(fields.Nested(RewardSchema))
    transactions = fields.List(fields.Nested(TransactionSchema))


class AdjustPointsSchema(Schema):
    points = WholeNumber(required=True, validate=validate.Range(min=-MAX_POINTS, max=MAX_POINTS))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class ShopSchema(Schema):
    domain = fields.String()
    name = fields.String(allow_none=True)
    currency = fields.String()


class ApiKeySchema(Schema):
    id = fields.Integer()
    name = fields.String(allow_none=True)
    hint = fields.String()
    createdAt = fields.DateTime()
    revokedAt = fields.DateTime(allow_none=True)


class ApiKeyCreateSchema(Schema):
    name = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=255))


class ApiKeyCreatedSchema(Schema):
    id = fields.Integer()
    key = fields.String(metadata={"description": "Shown once; only its hash is kept."})


CUSTOMER_REF = {
    "description": "The customer: `customerId` or `customerEmail`, exactly one of them.",
    **spec_rules.exactly_one(customerId={"type": "integer"}, customerEmail={"type": "string"}),
}


class CustomerRefSchema(Schema):
    """Names a customer by Shopify id or email (Appstle's external API)."""

    customerId = shopify_id(allow_none=True, load_default=None)
    customerEmail = fields.Email(allow_none=True, load_default=None,
                                 validate=validate.Length(max=320))

    @validates_schema
    def _one_of(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if (data.get("customerId") is None) == (data.get("customerEmail") is None):
            raise ValidationError("Give customerId or customerEmail.", "customerId")


class CustomerRefArgsSchema(CustomerRefSchema):
    class Meta:
        unknown = EXCLUDE

    # A query string carries text: "123" is the number here, unlike in a JSON body.
    customerId = fields.Integer(  # type: ignore[assignment]
        allow_none=True, load_default=None, validate=validate.Range(min=1, max=MAX_ID))


class ExternalPointsSchema(CustomerRefSchema):
    OPENAPI_RULES = CUSTOMER_REF

    points = api_fields.points(required=True)
    reason = fields.String(load_default="External API", validate=validate.Length(min=1, max=500))


class ExternalRedeemSchema(CustomerRefSchema):
    OPENAPI_RULES = CUSTOMER_REF

    redeemRuleId = shopify_id(required=True)
    points = api_fields.points(allow_none=True, load_default=None)
    variantId = shopify_id(allow_none=True, load_default=None)
