"""The business rules, one package per capability; they take a Session and never commit.

Packages depend downwards only (an upper one may import a lower one, never the reverse):

    orders      webhooks and what orders do: earning, reversals, tier progress of orders
    customers   enrolment, profiles, portal reads, adjustments, imports, privacy, actions
                (newsletter, SMS, social, dob), birthdays, referrals, tiers (progress,
                upgrade, assignment, the tiers job's review)
    rewards     redemption, codes, fulfilment in Shopify, usage, refunds, expiry, reminders
    points      the ledger, point batches, pending points, reversals of earnings, expiry and
                its reminders, exports, verify
    program     the merchant's rules: redeem rules, earn rules, VIP tiers, settings
    shops       installation, tokens, Shopify admin clients, API keys, lookup, public links

Beside them, mechanisms every package may use and that import none of them: ``outbox``
(tasks written in the business transaction), ``idempotency`` (request keys) and ``paging``.
tests/unit/test_layers.py holds the code to this order.
"""
