"""The embedded admin API (``/api/admin``), one module per part of the merchant's admin.

Authenticated by an App Bridge session token (``common.authenticate``); every query is
scoped by the token's shop, so another shop's rule, customer, reward or key is a 404.
"""
