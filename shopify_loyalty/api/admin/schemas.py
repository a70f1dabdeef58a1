"""marshmallow schemas of the admin and external APIs (camelCase, like the storefront's)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from shopify_loyalty.api import fields as api_fields
from shopify_loyalty.api.fields import MAX_ID, MAX_POINTS, WholeNumber, shopify_id
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
from shopify_loyalty.services.program import settings as shop_settings

MAX_MONEY = 10**9


def _money_range(value: Decimal) -> None:
    # A plain function, not validate.Range: apispec would print a Decimal bound as a
    # string, which is not a valid OpenAPI minimum.
    if not 0 <= value <= MAX_MONEY:
        raise ValidationError(f"From 0 to {MAX_MONEY}.")


def money(**kwargs: Any) -> fields.Decimal:
    """An amount of money: not negative, two places, never NaN or infinite."""
    return fields.Decimal(places=2, allow_nan=False, validate=_money_range, **kwargs)


def _ids(**kwargs: Any) -> fields.List[Any]:
    return fields.List(shopify_id(), validate=validate.Length(max=250), **kwargs)


class RedeemRulePatchSchema(Schema):
    """Changes to a redeem rule; every field optional. Unknown fields are refused."""

    name = fields.String(validate=validate.Length(min=1, max=255))
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
    active = fields.Boolean()


class RedeemRuleCreateSchema(RedeemRulePatchSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
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
    includeShipping = fields.Boolean()
    includeTax = fields.Boolean()
    pendingDays = WholeNumber(validate=validate.Range(min=0, max=365))
    network = fields.String(allow_none=True, validate=validate.Length(min=1, max=16))
    refereeValue = money(allow_none=True)
    refereeKind = fields.String(allow_none=True,
                                validate=validate.OneOf(["FIXED_AMOUNT", "PERCENTAGE"]))
    active = fields.Boolean()


class EarnRuleCreateSchema(EarnRulePatchSchema):
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


def _setting_field(setting: shop_settings.Setting) -> fields.Field[Any]:
    """The API field of a setting; the service checks the value in full (bounds, patterns).

    Its help and kind go into the OpenAPI spec, so the admin pages build the settings form
    from it (admin_ui/static/admin/views/settings.js).
    """
    options: dict[str, Any] = {
        "allow_none": setting.default is None,
        "metadata": {"description": setting.help, "x-setting-kind": setting.kind.value,
                     "x-setting-group": setting.group},
    }
    kind = setting.kind
    if kind is shop_settings.Kind.TAGS:
        return fields.List(fields.String(validate=validate.Length(max=255)),
                           validate=validate.Length(max=shop_settings.MAX_TAGS), **options)
    if kind is shop_settings.Kind.CHOICE:
        if setting.labels:
            options["metadata"]["x-choice-labels"] = dict(zip(setting.choices, setting.labels,
                                                              strict=True))
        return fields.String(validate=validate.OneOf(setting.choices), **options)
    if kind is shop_settings.Kind.WHOLE:
        return fields.Integer(strict=True, validate=validate.Range(setting.low, setting.high),
                              **options)
    if kind is shop_settings.Kind.DAYS:
        return fields.List(fields.Integer(strict=True,
                                          validate=validate.Range(setting.low, setting.high)),
                           validate=validate.Length(max=shop_settings.MAX_DAYS_LIST), **options)
    if kind is shop_settings.Kind.SWITCH:
        # A JSON true or false: marshmallow would also take "yes", 1 or "on".
        return fields.Boolean(truthy={True}, falsy={False}, **options)
    if kind is shop_settings.Kind.MONEY:
        # A decimal string, so that 0.005 stays exact; bounds checked by the service.
        options["metadata"].update(type="string", format="decimal")
        return fields.Decimal(as_string=True, places=None, allow_nan=False, **options)
    return fields.String(validate=validate.Length(max=255), **options)


# One field per setting of services.program.settings, under its API name.
SettingsSchema = Schema.from_dict(
    {setting.api: _setting_field(setting) for setting in shop_settings.SETTINGS},
    name="SettingsSchema",
)


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
    points = api_fields.points(required=True)
    reason = fields.String(load_default="External API", validate=validate.Length(min=1, max=500))


class ExternalRedeemSchema(CustomerRefSchema):
    redeemRuleId = shopify_id(required=True)
    points = api_fields.points(allow_none=True, load_default=None)
    variantId = shopify_id(allow_none=True, load_default=None)
