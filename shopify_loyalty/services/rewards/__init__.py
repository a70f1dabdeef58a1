"""Rewards: redemption, the codes we make, fulfilment in Shopify, usage and refunds."""
