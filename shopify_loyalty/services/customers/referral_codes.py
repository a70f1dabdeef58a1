"""Referral codes: every enrolled customer has one, 8 characters, unique.

The codes use the reward codes' alphabet (no 0/O, 1/I/L, so a code read aloud or typed from
a screenshot survives): 31⁸ ≈ 8.5·10¹¹ codes. The column is unique across shops (stricter
than per shop, and one index serves the look-up); a collision is caught by that index and
the code drawn again.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shopify_loyalty.errors import ReferralNotFoundError
from shopify_loyalty.models import Customer, Shop
from shopify_loyalty.services.rewards.codes import CODE_ALPHABET, normalise_code

REFERRAL_CODE_LENGTH = 8
# Draws before giving up: with 10⁷ codes taken, 5 collisions in a row happen once in 10²⁵.
MAX_DRAWS = 5
T = TypeVar("T")


def new_referral_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))


def with_fresh_code(session: Session, write: Callable[[str], T]) -> T:
    """``write(code)`` in a savepoint, with a new code after a unique-key collision.

    Raises IntegrityError when ``write`` keeps failing (not a code collision then).
    """
    for _ in range(MAX_DRAWS - 1):
        try:
            with session.begin_nested():
                return write(new_referral_code())
        except IntegrityError:
            continue
    with session.begin_nested():
        return write(new_referral_code())


def ensure_referral_code(session: Session, customer: Customer) -> str:
    """The customer's code, given now to a customer enrolled before codes existed."""
    if customer.referral_code:
        return customer.referral_code

    def give(code: str) -> str:
        session.execute(update(Customer)
                        .where(Customer.id == customer.id, Customer.referral_code.is_(None))
                        .values(referral_code=code).execution_options(synchronize_session=False))
        return code

    with_fresh_code(session, give)
    session.refresh(customer, ["referral_code"])
    assert customer.referral_code is not None
    return customer.referral_code


def referrer_by_code(session: Session, shop: Shop, code: str) -> Customer:
    """The shop's customer with this referral code. Raises ReferralNotFoundError (another
    shop's code too)."""
    customer = session.scalars(select(Customer).where(
        Customer.referral_code == normalise_code(code), Customer.shop_id == shop.id
    )).first()
    if customer is None:
        raise ReferralNotFoundError()
    return customer
