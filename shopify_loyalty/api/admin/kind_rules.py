"""What a rule's kind requires of the body that creates it, as JSON Schema for the spec
(``OPENAPI_RULES``, see api.spec_rules). The same rules are checked in code, where they are
decided: services.program.redeem_rules and services.program.earn_rules.

Not stated here, because JSON Schema cannot compare two fields: a variable-amount rule's
``maxPoints`` is at least its ``minPoints`` (said in the description).
"""

from __future__ import annotations

from shopify_loyalty.api.fields import MAX_ID, MAX_MONEY, MAX_POINTS
from shopify_loyalty.api.spec_rules import Json, both_or_neither, given, left_out
from shopify_loyalty.models import EarnRuleKind, RedeemRuleKind
from shopify_loyalty.services.program import earn_rules

POINTS: Json = {"type": "integer", "minimum": 1, "maximum": MAX_POINTS}
# Amounts are kept to two places: the smallest positive one is 0.01.
AMOUNT: Json = {"type": "number", "minimum": 0.01, "maximum": MAX_MONEY}
PERCENT: Json = {"type": "number", "minimum": 0.01, "maximum": 100}


def _kind(kind: str, *parts: Json) -> Json:
    """The branch of one kind: its own ``kind`` value, then every part's requirements."""
    branch: Json = {"properties": {"kind": {"type": "string", "enum": [kind]}},
                    "required": ["kind"]}
    for part in parts:
        branch["properties"].update(part.get("properties", {}))
        branch["required"] = sorted({*branch["required"], *part.get("required", [])})
    return branch


_REDEEM = {
    RedeemRuleKind.FIXED_AMOUNT: given(pointsCost=POINTS, value=AMOUNT),
    RedeemRuleKind.STORE_CREDIT: given(pointsCost=POINTS, value=AMOUNT),
    RedeemRuleKind.PERCENTAGE: given(pointsCost=POINTS, value=PERCENT),
    RedeemRuleKind.FREE_SHIPPING: given(pointsCost=POINTS),
    RedeemRuleKind.FREE_PRODUCT: given(pointsCost=POINTS, variantIds={
        "type": "array", "minItems": 1,
        "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}),
    # Its cost is what the customer chooses: pointsCost is ignored.
    RedeemRuleKind.VARIABLE_AMOUNT: given(pointsPerUnit=POINTS, minPoints=POINTS),
}

REDEEM_RULE_CREATE: Json = {
    "description": "What each kind needs: `pointsCost` (all but VARIABLE_AMOUNT), `value` "
    "(FIXED_AMOUNT, STORE_CREDIT: an amount; PERCENTAGE: a percent), `variantIds` "
    "(FREE_PRODUCT), `pointsPerUnit` and `minPoints` (VARIABLE_AMOUNT, whose `maxPoints`, "
    "if given, is at least `minPoints`). `limitCount` and `limitInterval` go together. "
    "`requiredTierId` names one of the shop's tiers (422 if not).",
    "allOf": [
        {"oneOf": [_kind(kind.value, part) for kind, part in _REDEEM.items()]},
        both_or_neither(limitCount={"type": "integer"}, limitInterval={"type": "string"}),
    ],
}

_NOT_PURCHASE = left_out("pointsPerUnit", "minOrder")
_NOT_PURCHASE["properties"].update(includeShipping={"type": "boolean", "enum": [False]},
                                   includeTax={"type": "boolean", "enum": [False]})
_NO_NETWORK = left_out("network")
_NOT_REFERRAL = left_out("refereeValue", "refereeKind")
_FIXED_POINTS = (given(points=POINTS), _NOT_PURCHASE)


def _networks(kind: EarnRuleKind) -> Json:
    aliases = earn_rules.NETWORK_ALIASES.get(kind, {})
    names = sorted({*earn_rules.NETWORKS[kind], *aliases})
    return given(network={"type": "string", "enum": names})


EARN_RULE_CREATE: Json = {
    "description": "What each kind needs: `pointsPerUnit` (PURCHASE, the only kind with "
    "`minOrder`, `includeShipping`, `includeTax`), `points` (every other kind), `network` "
    "(SOCIAL_FOLLOW, SOCIAL_SHARE), `refereeKind` and `refereeValue` (REFERRAL: what the "
    "friend's code gives, a percentage at most 100).",
    "oneOf": [
        _kind(EarnRuleKind.PURCHASE, given(pointsPerUnit=POINTS), left_out("points"),
              _NO_NETWORK, _NOT_REFERRAL),
        *(_kind(kind, *_FIXED_POINTS, _NO_NETWORK, _NOT_REFERRAL)
          for kind in (EarnRuleKind.SIGNUP, EarnRuleKind.BIRTHDAY, EarnRuleKind.NEWSLETTER,
                       EarnRuleKind.SMS)),
        *(_kind(kind, *_FIXED_POINTS, _networks(kind), _NOT_REFERRAL)
          for kind in (EarnRuleKind.SOCIAL_FOLLOW, EarnRuleKind.SOCIAL_SHARE)),
        _kind(EarnRuleKind.REFERRAL, *_FIXED_POINTS, _NO_NETWORK, given(
            refereeKind={"type": "string", "enum": [RedeemRuleKind.FIXED_AMOUNT.value]},
            refereeValue=AMOUNT)),
        _kind(EarnRuleKind.REFERRAL, *_FIXED_POINTS, _NO_NETWORK, given(
            refereeKind={"type": "string", "enum": [RedeemRuleKind.PERCENTAGE.value]},
            refereeValue=PERCENT)),
    ],
}

SOCIAL_ACTION: Json = {
    "description": "`network`: for `follow`, one of the follow networks; for `share`, "
    "facebook or x.",
    "oneOf": [
        given(action={"type": "string", "enum": ["follow"]},
              **_networks(EarnRuleKind.SOCIAL_FOLLOW)["properties"]),
        given(action={"type": "string", "enum": ["share"]},
              **_networks(EarnRuleKind.SOCIAL_SHARE)["properties"]),
    ],
}
