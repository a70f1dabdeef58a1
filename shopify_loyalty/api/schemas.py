"""One marshmallow schema per payload of the storefront API (camelCase, as Appstle's)."""

from __future__ import annotations

import enum
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from shopify_loyalty.api.fields import MAX_ID, points, shopify_id
from shopify_loyalty.models import (
    CustomerStatus,
    FulfillmentStatus,
    LedgerKind,
    LedgerStatus,
    RedeemRuleKind,
    RewardStatus,
    RewardType,
    TierMetric,
)


def _enum(enum_cls: type[enum.Enum], **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.OneOf([m.value for m in enum_cls]), **kwargs)


class RedeemPointsSchema(Schema):
    """Body of POST /loyalty/cp/api/redeem-points. Unknown fields are refused."""

    redeemRuleId = shopify_id(required=True)
    points = points(allow_none=True, load_default=None)
    variantId = shopify_id(allow_none=True, load_default=None)
    customerId = shopify_id(allow_none=True, load_default=None)
    customerEmail = fields.Email(allow_none=True, load_default=None,
                                 validate=validate.Length(max=320))


class PageArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # cache-busting and tracking parameters are harmless

    # Query strings are text: "2" is a page number here, unlike in a JSON body.
    page = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID // 100))
    size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class RewardsArgsSchema(PageArgsSchema):
    status = _enum(RewardStatus, load_default=None)


class RewardSchema(Schema):
    id = fields.Integer()
    shop = fields.String(required=True)
    customerId = fields.Integer(required=True)
    description = fields.String(allow_none=True)
    points = fields.Integer()
    pointTransactionId = fields.Integer(allow_none=True)
    pointRedeemRuleId = fields.Integer(allow_none=True)
    discountCode = fields.String(allow_none=True)
    discountCodeId = fields.String(allow_none=True)
    usedAt = fields.DateTime(allow_none=True)
    orderId = fields.Integer(allow_none=True)
    orderName = fields.String(allow_none=True)
    status = _enum(RewardStatus, required=True)
    expireDate = fields.DateTime(allow_none=True)
    variantId = fields.Integer(allow_none=True)
    amount = fields.Float(allow_none=True)
    rewardType = _enum(RewardType)
    fulfillmentStatus = _enum(FulfillmentStatus)
    failureReason = fields.String(allow_none=True)
    createdAt = fields.DateTime()
    lastExpiryReminderSentDate = fields.DateTime(allow_none=True)


class PointsExpiringSchema(Schema):
    points = fields.Integer()
    at = fields.DateTime()


class TierProgressSchema(Schema):
    metric = _enum(TierMetric)
    current = fields.Float(metadata={"description": "Progress in the metric over the period."})
    nextTierId = fields.Integer(allow_none=True)
    neededForNext = fields.Float(allow_none=True)


class VipTierSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    threshold = fields.Float(metadata={"description": "In the shop's tier metric."})
    earnMultiplier = fields.Float()
    entryPoints = fields.Integer()
    perks = fields.String(allow_none=True)


class LoyaltyInfoSchema(Schema):
    customerId = fields.Integer()
    availablePoints = fields.Integer()
    pendingPoints = fields.Integer()
    creditedPoints = fields.Integer()
    spentPoints = fields.Integer()
    spentAmount = fields.Float()
    storeCreditBalance = fields.Float()
    achievableTierId = fields.Integer(allow_none=True)
    currentVipTier = fields.String(allow_none=True)
    vipTierExpiredAt = fields.DateTime(allow_none=True)
    tierProgress = fields.Nested(TierProgressSchema, allow_none=True)
    createAt = fields.DateTime()
    customerStatus = _enum(CustomerStatus)
    dob = fields.Date(allow_none=True)
    referredCompleted = fields.Integer()
    referralLink = fields.String(allow_none=True)
    # The next deadline of the customer's points and how many expire at it (null: none).
    pointsExpiringNext = fields.Nested(PointsExpiringSchema, allow_none=True)
    rewards = fields.List(fields.Nested(RewardSchema))
    rewardedForFacebook = fields.Boolean()
    rewardedForPinterest = fields.Boolean()
    rewardedForTwitter = fields.Boolean()
    rewardedForInstagram = fields.Boolean()
    rewardedForYoutube = fields.Boolean()
    rewardedForTiktok = fields.Boolean()
    rewardedForNewsLetter = fields.Boolean()
    rewardedForSms = fields.Boolean()
    rewardedForCreatingAccount = fields.Boolean()
    rewardedForSharingOnFacebook = fields.Boolean()
    rewardedForSharingOnX = fields.Boolean()


class TransactionSchema(Schema):
    id = fields.Integer()
    points = fields.Integer()
    kind = _enum(LedgerKind)
    status = _enum(LedgerStatus)
    availableAfter = fields.Integer(allow_none=True)
    description = fields.String(allow_none=True)
    sourceType = fields.String(allow_none=True)
    sourceId = fields.String(allow_none=True)
    createdAt = fields.DateTime()


class RedeemRuleOptionSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String(allow_none=True)
    kind = _enum(RedeemRuleKind)
    rewardType = _enum(RewardType)
    pointsCost = fields.Integer()
    value = fields.Float(allow_none=True)
    maxShipping = fields.Float(allow_none=True)
    minSubtotal = fields.Float(allow_none=True)
    expiresInDays = fields.Integer(allow_none=True)
    variantIds = fields.List(fields.Integer())
    productIds = fields.List(fields.Integer())
    collectionIds = fields.List(fields.Integer())
    pointsPerUnit = fields.Integer(allow_none=True)
    minPoints = fields.Integer(allow_none=True)
    maxPoints = fields.Integer(allow_none=True)
    increment = fields.Integer(allow_none=True)
    combinesWith = fields.List(fields.String())
    limitCount = fields.Integer(allow_none=True)
    limitInterval = fields.String(allow_none=True)
    requiredTierId = fields.Integer(allow_none=True)
    canRedeem = fields.Boolean()
    unavailableReason = fields.String(allow_none=True)


class ErrorSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    status = fields.Integer(required=True)
    errors = fields.Dict(keys=fields.String())
