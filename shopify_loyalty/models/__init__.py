"""The ORM model, one module per aggregate. Every table carries ``shop_id``."""

from shopify_loyalty.models.admin_session import AdminSession
from shopify_loyalty.models.customer import Customer, CustomerStatus
from shopify_loyalty.models.data_export import DataExport
from shopify_loyalty.models.event import LoyaltyEvent
from shopify_loyalty.models.event_endpoint import DeliveryStatus, EventDelivery, EventEndpoint
from shopify_loyalty.models.expiry import PointBatch, PointsReminder, ReminderRun
from shopify_loyalty.models.idempotency import IdempotencyKey
from shopify_loyalty.models.ledger import LedgerKind, LedgerStatus, PointTransaction
from shopify_loyalty.models.order_points import OrderPoints
from shopify_loyalty.models.outbox import OutboxMessage
from shopify_loyalty.models.referral import Referral, ReferralState
from shopify_loyalty.models.reward import FulfillmentStatus, Reward, RewardStatus, RewardType
from shopify_loyalty.models.rule import (
    EarnRule,
    EarnRuleKind,
    LimitInterval,
    RedeemRule,
    RedeemRuleKind,
)
from shopify_loyalty.models.shop import ApiKey, Shop
from shopify_loyalty.models.shopify_sync import CustomerSync
from shopify_loyalty.models.tier import TierMetric, TierPeriod, TierProgressDay, VipTier
from shopify_loyalty.models.webhook import WebhookEvent, WebhookStatus

__all__ = [
    "AdminSession",
    "ApiKey",
    "Customer",
    "CustomerStatus",
    "CustomerSync",
    "DataExport",
    "DeliveryStatus",
    "EarnRule",
    "EarnRuleKind",
    "EventDelivery",
    "EventEndpoint",
    "FulfillmentStatus",
    "IdempotencyKey",
    "LedgerKind",
    "LedgerStatus",
    "LimitInterval",
    "LoyaltyEvent",
    "OrderPoints",
    "OutboxMessage",
    "PointBatch",
    "PointTransaction",
    "PointsReminder",
    "RedeemRule",
    "RedeemRuleKind",
    "Referral",
    "ReferralState",
    "ReminderRun",
    "Reward",
    "RewardStatus",
    "RewardType",
    "Shop",
    "TierMetric",
    "TierPeriod",
    "TierProgressDay",
    "VipTier",
    "WebhookEvent",
    "WebhookStatus",
]
