"""Shopify webhooks and what orders do: earning points and taking them back."""
