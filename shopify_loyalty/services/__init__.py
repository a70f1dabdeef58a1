"""The business rules, one package per capability; they take a Session and never commit.

Packages depend downwards only (an upper one may import a lower one, never the reverse):

    orders      webhooks and what orders do: earning, reversals
    customers   enrolment, profiles, portal reads, adjustments, imports, privacy
    rewards     redemption, codes, fulfilment in Shopify, usage, refunds, expiry, reminders
    points      the ledger, point batches, pending points, expiry and its reminders, exports
    program     the merchant's rules: redeem rules, earn rules, settings
    shops       installation, tokens, Shopify admin clients, API keys, lookup

Beside them, mechanisms every package may use and that import none of them: ``outbox``
(tasks written in the business transaction), ``idempotency`` (request keys) and ``paging``.
tests/unit/test_layers.py holds the code to this order.
"""
