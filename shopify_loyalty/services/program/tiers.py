"""The merchant's VIP tiers: the ladder customers climb (their climb: services.customers.tiers).

Tiers are ranked by threshold. Two active tiers of a shop never share a threshold (which
would be the higher?) or a name (customers see it, Shopify tags carry it). A tier is never
deleted, since customers and redeem rules refer to it: it is deactivated, and its members
are moved by the next ``tiers`` job run (services.customers.tier_review).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from shopify_loyalty.errors import NotFoundError, ValidationError
from shopify_loyalty.models import Shop, VipTier
from shopify_loyalty.services.events.sync import marks as shopify_sync
from shopify_loyalty.services.program_cache import program_rows

# A multiplier beyond this is a typo (x1000 points per order), not a program.
MAX_MULTIPLIER = Decimal("100")
# Far above any real threshold in money, points or orders; within Numeric(14, 2).
MAX_THRESHOLD = Decimal("1000000000")
MAX_ENTRY_POINTS = 1_000_000_000
MAX_PERKS_LENGTH = 2000


@dataclass
class TierSpec:
    name: str
    threshold: Decimal
    earn_multiplier: Decimal = Decimal("1")
    entry_points: int = 0
    perks: str | None = None
    active: bool = True


def _places(number: Decimal) -> int:
    exponent = number.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _errors(spec: TierSpec) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def need(name: str, ok: bool, message: str) -> None:
        if not ok:
            errors.setdefault(name, []).append(message)

    need("name", 0 < len(spec.name.strip()) <= 255, "1 to 255 characters.")
    threshold, multiplier = spec.threshold, spec.earn_multiplier
    need("threshold", threshold.is_finite() and 0 <= threshold <= MAX_THRESHOLD
         and _places(threshold) <= 2, f"From 0 to {MAX_THRESHOLD}, at most 2 decimals.")
    need("earnMultiplier", multiplier.is_finite() and 1 <= multiplier <= MAX_MULTIPLIER
         and _places(multiplier) <= 3, f"From 1 to {MAX_MULTIPLIER}, at most 3 decimals.")
    need("entryPoints", 0 <= spec.entry_points <= MAX_ENTRY_POINTS,
         f"From 0 to {MAX_ENTRY_POINTS}.")
    need("perks", spec.perks is None or len(spec.perks) <= MAX_PERKS_LENGTH,
         f"At most {MAX_PERKS_LENGTH} characters.")
    return errors


def _ladder_errors(session: Session, shop: Shop, spec: TierSpec,
                   tier_id: int | None) -> dict[str, list[str]]:
    """An active tier's threshold and name must be its own among the shop's active tiers."""
    if not spec.active:
        return {}
    others = [t for t in active_tiers(session, shop) if t.id != tier_id]
    errors: dict[str, list[str]] = {}
    if any(t.threshold == spec.threshold for t in others):
        errors["threshold"] = ["Another active tier has this threshold."]
    if any(t.name.strip().casefold() == spec.name.strip().casefold() for t in others):
        errors["name"] = ["Another active tier has this name."]
    return errors


def _check(session: Session, shop: Shop, spec: TierSpec, tier_id: int | None = None) -> None:
    errors = _errors(spec) or _ladder_errors(session, shop, spec, tier_id)
    if errors:
        raise ValidationError(errors=errors)


def create_tier(session: Session, shop: Shop, spec: TierSpec) -> VipTier:
    """Raises ValidationError (bounds, or a threshold or name another active tier has)."""
    spec.name = spec.name.strip()
    _check(session, shop, spec)
    tier = VipTier(shop_id=shop.id, **asdict(spec))
    session.add(tier)
    session.flush()
    return tier


def tiers(session: Session, shop: Shop) -> Sequence[VipTier]:
    """All the shop's tiers, active or not, lowest first (to read: services.program_cache)."""
    return program_rows(session, shop.id, "tiers",
                        lambda: session.scalars(_SHOP_TIERS, {"shop": shop.id}).all())


# Built once: every loyalty info and every order's tier check reads it.
_SHOP_TIERS = (select(VipTier).where(VipTier.shop_id == bindparam("shop"))
               .order_by(VipTier.threshold, VipTier.id))


def active_tiers(session: Session, shop: Shop) -> list[VipTier]:
    """The shop's ladder today, lowest first."""
    return [t for t in tiers(session, shop) if t.active]


def tier(session: Session, shop: Shop, tier_id: int) -> VipTier:
    """The shop's tier, active or not. Raises NotFoundError (another shop's tier too)."""
    row = session.get(VipTier, tier_id)
    if row is None or row.shop_id != shop.id:
        raise NotFoundError("No such VIP tier in this shop.")
    return row


def update_tier(session: Session, shop: Shop, tier_id: int, changes: dict[str, Any]) -> VipTier:
    """Change some of a tier's settings (TierSpec field names), checked as a whole.

    Customers keep their tier: a new threshold counts from their next earning or their
    re-evaluation. Raises NotFoundError, ValidationError.
    """
    row = tier(session, shop, tier_id)
    current = {f.name: getattr(row, f.name) for f in fields(TierSpec)}
    spec = TierSpec(**{**current, **changes})
    spec.name = spec.name.strip()
    _check(session, shop, spec, row.id)
    renamed = spec.name != row.name
    for name, value in asdict(spec).items():
        setattr(row, name, value)
    session.flush()
    if renamed:
        # Its members' tag and metafield name the tier: they are written again.
        shopify_sync.mark_tier(session, shop, row.id)
    return row


def deactivate_tier(session: Session, shop: Shop, tier_id: int) -> VipTier:
    """No one enters it any more; its members keep it until the next ``tiers`` job run,
    which places them by their progress. Raises NotFoundError."""
    row = tier(session, shop, tier_id)
    row.active = False
    return row


def reached(ladder: Iterable[VipTier], value: Decimal) -> VipTier | None:
    """The highest tier of ``ladder`` whose threshold ``value`` reaches."""
    best: VipTier | None = None
    for step in ladder:
        if step.threshold <= value and (best is None or step.threshold > best.threshold):
            best = step
    return best


def next_above(ladder: Iterable[VipTier], held: VipTier | None) -> VipTier | None:
    """The lowest tier of ``ladder`` above ``held`` (the lowest of all if none is held)."""
    above = [t for t in ladder if held is None or t.threshold > held.threshold]
    return min(above, key=lambda t: (t.threshold, t.id), default=None)


def at_least(held: VipTier | None, required: VipTier) -> bool:
    """Whether ``held`` is ``required`` or ranks above it (by threshold)."""
    return held is not None and (held.id == required.id or held.threshold >= required.threshold)
