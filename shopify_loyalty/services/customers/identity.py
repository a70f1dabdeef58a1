"""Telling people apart for referrals: canonical emails, masked emails, address keys.

A referral pays for a new customer, so the checks compare what a person can vary cheaply in
its canonical form: case, a ``+tag`` after the local part, and the dots Gmail ignores
(``Jo.Ann+x@gmail.com`` is ``joann@gmail.com``). Keys are SHA-256 hashes, so a referral
remembers an email or an address it must refuse without keeping it in the clear.
"""

from __future__ import annotations

import hashlib
import re

from shopify_loyalty.shopify.webhook_payloads import PostalAddress

# Domains whose mailboxes ignore dots in the local part.
DOTLESS_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")


def canonical_email(email: str) -> str:
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def email_key(email: str) -> str:
    return hashlib.sha256(canonical_email(email).encode()).hexdigest()


def same_person_email(one: str | None, other: str | None) -> bool:
    return bool(one and other) and canonical_email(one or "") == canonical_email(other or "")


def masked_email(email: str | None) -> str | None:
    """``f***@example.com``: enough for a referrer to recognise a friend, no more."""
    if not email:
        return None
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"


def address_key(address: PostalAddress | None) -> str | None:
    """A hash of the street, town, postcode and country, spelled any which way (``123 Elm
    St.`` and ``123 elm st``); None without a street line."""
    if address is None or not (address.address1 or "").strip():
        return None
    parts = (address.address1, address.address2, address.city, address.zip,
             address.country_code)
    text = "|".join(_NOT_ALPHANUMERIC.sub("", (part or "").lower()) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()
