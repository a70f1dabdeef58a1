"""Discount codes we generate: unguessable, readable aloud, unique per shop."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L: a customer copying a code by hand cannot confuse them. 31 symbols,
# 12 of them: about 59 bits, so guessing a live code is hopeless and collisions are rare
# enough that the unique index only has to catch them, not prevent them.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12


_CODES = len(CODE_ALPHABET) ** CODE_LENGTH


def generate_code(prefix: str) -> str:
    # One uniform draw below 31**12 written in base 31: the same distribution as twelve
    # secrets.choice calls, at a twelfth of their cost (this runs on every redemption).
    number = secrets.randbelow(_CODES)
    symbols = []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, len(CODE_ALPHABET))
        symbols.append(CODE_ALPHABET[digit])
    return f"{prefix}{''.join(symbols)}".upper()


def normalise_code(code: str) -> str:
    """Shopify matches discount codes case-insensitively; we store and compare upper-case."""
    return code.strip().upper()
