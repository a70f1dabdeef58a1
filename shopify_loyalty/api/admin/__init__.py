"""The embedded admin API (``/api/admin``), one module per part of the merchant's admin.

Authenticated by an App Bridge session token, or by the standalone admin's session cookie
with its CSRF token (``common.authenticate``, api.context.admin_shop_id); every query is
scoped by that shop, so another shop's rule, customer, reward or key is a 404.
"""
