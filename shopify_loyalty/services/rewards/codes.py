"""Discount codes we generate: unguessable, readable aloud, unique per shop."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L: a customer copying a code by hand cannot confuse them. 31 symbols,
# 12 of them: about 59 bits, so guessing a live code is hopeless and collisions are rare
# enough that the unique index only has to catch them, not prevent them.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12


def generate_code(prefix: str) -> str:
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{prefix}{body}".upper()


def normalise_code(code: str) -> str:
    """Shopify matches discount codes case-insensitively; we store and compare upper-case."""
    return code.strip().upper()
