"""What one write of a few customers sends: their metafields, the ones they no longer have,
and their tier tag when it changed.

A field is deleted only where one may have been written: a tier until a write said there
was none, a referral link until the first write (a code, once given, stays). A tier tag is
written only when it differs from the last one written, so a balance change costs no tag
call; the new tag is added before the old ones go, so a segment on tier tags never sees the
customer without one. With a new tag, the old tags removed are every tag of the shop's tiers
(a renamed one through the last tag written) but the new one, so a tag left by an earlier
install goes too; without a tier, only the tag last written is removed: a first write of a
customer without a tier costs no tag call (most customers have no tier).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shopify_loyalty.services.events.sync.claims import Claimed
from shopify_loyalty.shopify.customer_fields import (
    REFERRAL_URL,
    VIP_TIER,
    CustomerFieldsAdmin,
    absent_identifiers,
    metafield_inputs,
    tier_tag,
)


def write_customers(admin: CustomerFieldsAdmin, batch: Sequence[Claimed],
                    tier_names: Iterable[str]) -> None:
    """Raises the adapter's errors (``ShopifyUserErrors`` among them)."""
    admin.set_metafields(metafield_inputs(claimed.fields for claimed in batch))
    stale = [identifier for claimed in batch
             for identifier in absent_identifiers([claimed.fields], _maybe_written(claimed))]
    if stale:
        admin.delete_metafields(stale)
    shop_tags = {tag for name in tier_names if (tag := tier_tag(name))}
    for claimed in batch:
        if claimed.synced and claimed.synced_tag == claimed.tag:
            continue
        if claimed.tag:
            admin.add_tags(claimed.fields.shopify_customer_id, [claimed.tag])
            old = (shop_tags | {claimed.synced_tag}) - {claimed.tag, None}
        else:
            old = {claimed.synced_tag} - {None}
        if old:
            admin.remove_tags(claimed.fields.shopify_customer_id,
                              sorted(tag for tag in old if tag))


def _maybe_written(claimed: Claimed) -> list[str]:
    keys = [VIP_TIER] if not claimed.synced or claimed.synced_tag is not None else []
    return keys if claimed.synced else [*keys, REFERRAL_URL]
