"""Input no view should ever see: refused once, for every JSON API, before any view runs.

- JSON nested deeper than ``MAX_DEPTH``: Python's parser would raise RecursionError (a 500)
  on pathological depth long before a legitimate payload gets near it;
- a NUL character in a body, a query parameter, a header or the path: PostgreSQL cannot
  store one in text (the driver raises), and no name, code or email contains one;
- an integer too long for Python to read (over 4300 digits): the parser raises ValueError,
  which no view expects.

Each is a 400 in the error shape, and nothing has run. Webhooks are exempt: their body must
reach the signature check untouched, and Shopify's payloads are cleaned where they are stored
(services.orders.webhooks).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, request

from shopify_loyalty.errors import LoyaltyError

# Deeper than any payload of ours (the deepest is 3), shallow enough to walk in no time.
MAX_DEPTH = 32
NUL = "\x00"
EXEMPT_PREFIXES = ("/webhooks",)


class InvalidInputError(LoyaltyError):
    status = 400
    code = "invalid_input"
    message = "The request contains input that cannot be accepted."


def install_input_guard(app: Flask) -> None:
    app.before_request(_guard)


def _guard() -> None:
    if request.path.startswith(EXEMPT_PREFIXES):
        return
    if NUL in request.path or any(NUL in value for value in request.args.values()):
        raise InvalidInputError("Text must not contain NUL characters.")
    if any(NUL in value for _name, value in request.headers.items()):
        raise InvalidInputError("Headers must not contain NUL characters.")
    if request.is_json and request.content_length != 0:
        _check_body(request.get_data(cache=True))


def _check_body(raw: bytes) -> None:
    try:
        body = json.loads(raw)
    except RecursionError as exc:
        raise InvalidInputError(f"JSON nested deeper than {MAX_DEPTH} levels.") from exc
    except (json.JSONDecodeError, UnicodeDecodeError):
        return  # not JSON: the view answers invalid_json, as it always has
    except ValueError as exc:
        # Valid JSON Python will not read: an integer of more than 4300 digits
        # (sys.get_int_max_str_digits). The views' parser would raise it as a 500.
        raise InvalidInputError("A number in the body has too many digits.") from exc
    problem = _problem(body)
    if problem:
        raise InvalidInputError(problem)


def _problem(body: Any) -> str | None:
    """Walks the document without recursion: the depth limit is checked before descending."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"JSON nested deeper than {MAX_DEPTH} levels."
        if isinstance(value, str):
            if NUL in value:
                return "Text must not contain NUL characters."
        elif isinstance(value, dict):
            for key, item in value.items():
                if NUL in key:
                    return "Text must not contain NUL characters."
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return None
