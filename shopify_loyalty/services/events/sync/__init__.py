"""The Shopify customer sync: balances, tiers and referral links written to Shopify.

- ``marks``: a change marks its customer due, in the change's own transaction (coalesced);
- ``schedule``: the beat's tick queues one task per shop with due customers;
- ``claims``: a run takes due customers with their current state, and settles them;
- ``run``: the run itself, calling Shopify outside any transaction.
"""
