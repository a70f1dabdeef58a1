"""Property: whatever sequence of adjustments and redemptions, the balance never goes below
zero and always equals the sum of the approved ledger rows (invariant 1 in the README)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.errors import LoyaltyError
from shopify_loyalty.models import RedeemRuleKind
from shopify_loyalty.services.customers import adjustments
from shopify_loyalty.services.rewards import redemption
from tests import factories

adjust = st.tuples(st.just("adjust"), st.integers(min_value=-3000, max_value=3000))
redeem_fixed = st.tuples(st.just("fixed"), st.sampled_from([100, 250, 999]))
redeem_variable = st.tuples(st.just("variable"), st.integers(min_value=0, max_value=60))
operations = st.lists(st.one_of(adjust, redeem_fixed, redeem_variable), max_size=25)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_balance_equals_the_ledger_and_never_drops_below_zero(
    session: Session, ops: list[tuple[str, int]]
) -> None:
    shop = factories.shop(session)
    customer = factories.customer(session, shop, 1001)
    fixed = {cost: factories.rule(session, shop, points_cost=cost) for cost in (100, 250, 999)}
    variable = factories.rule(session, shop, RedeemRuleKind.VARIABLE_AMOUNT,
                              min_points=100, max_points=5000, increment=100)
    expected = 0
    for op, value in ops:
        try:
            with session.begin_nested():  # one request: all of it, or none of it
                if op == "adjust":
                    adjustments.adjust_points(session, shop, 1001, value, "property test")
                    delta = value
                elif op == "fixed":
                    command = redemption.RedeemCommand(fixed[value].id)
                    redemption.redeem_points(session, shop, customer, command, utcnow())
                    delta = -value
                else:
                    command = redemption.RedeemCommand(variable.id, points=value * 100)
                    redemption.redeem_points(session, shop, customer, command, utcnow())
                    delta = -value * 100
        except LoyaltyError:
            delta = 0
        expected += delta
        session.refresh(customer)
        assert customer.available_points == expected >= 0
        assert factories.ledger_sum(session, customer.id) == customer.available_points
