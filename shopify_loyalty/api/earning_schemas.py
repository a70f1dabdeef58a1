"""marshmallow schemas of the ways to earn and of referrals (storefront, public, admin)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shopify_loyalty.api.admin import kind_rules
from shopify_loyalty.api.schemas import PageArgsSchema, _enum
from shopify_loyalty.models import EarnRuleKind, RedeemRuleKind, ReferralState

MAX_EMAIL = 320


class BirthdaySchema(Schema):
    """Body of POST /loyalty/cp/api/birthday. Unknown fields are refused."""

    dob = fields.Date(required=True, metadata={"description": "YYYY-MM-DD"})


class DobChangeSchema(Schema):
    """Body of PATCH /api/admin/customers/<id>: the merchant sets or erases (null) a dob."""

    dob = fields.Date(required=True, allow_none=True)


class SocialActionSchema(Schema):
    """Body of POST /loyalty/cp/api/social-actions."""

    OPENAPI_RULES = kind_rules.SOCIAL_ACTION

    network = fields.String(required=True, validate=validate.Length(min=1, max=32))
    action = fields.String(required=True, validate=validate.OneOf(["follow", "share"]))


class EarnRuleOptionSchema(Schema):
    """A way to earn, as the storefront lists it."""

    id = fields.Integer()
    kind = _enum(EarnRuleKind)
    name = fields.String(allow_none=True)
    points = fields.Integer(allow_none=True)
    pointsPerUnit = fields.Integer(allow_none=True)
    network = fields.String(allow_none=True)
    refereeValue = fields.Float(allow_none=True)
    refereeKind = fields.String(allow_none=True)
    pendingDays = fields.Integer()


class ReferralClaimSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=MAX_EMAIL))


class ReferralClaimedSchema(Schema):
    discountCode = fields.String()
    kind = _enum(RedeemRuleKind)
    value = fields.Float()
    expireDate = fields.DateTime(allow_none=True)


class FriendSchema(Schema):
    """One of a referrer's referrals, as the referrer sees it (the email masked)."""

    id = fields.Integer()
    email = fields.String(allow_none=True)
    state = _enum(ReferralState)
    paid = fields.Boolean()
    createdAt = fields.DateTime()
    completedAt = fields.DateTime(allow_none=True)


class ReferralsSchema(Schema):
    referralCode = fields.String(allow_none=True)
    referralLink = fields.String(allow_none=True)
    referredCompleted = fields.Integer()
    referrals = fields.List(fields.Nested(FriendSchema))


class ReferralArgsSchema(PageArgsSchema):
    state = _enum(ReferralState, load_default=None)


class AdminReferralSchema(Schema):
    id = fields.Integer()
    referrerId = fields.Integer()
    referrerEmail = fields.String(allow_none=True)
    friendEmail = fields.String(allow_none=True)
    friendCustomerId = fields.Integer(allow_none=True)
    state = _enum(ReferralState)
    reason = fields.String(allow_none=True)
    paid = fields.Boolean()
    points = fields.Integer()
    discountCode = fields.String(allow_none=True)
    orderId = fields.Integer(allow_none=True)
    createdAt = fields.DateTime()
    completedAt = fields.DateTime(allow_none=True)
