"""The request id of the work in hand: set by a request (from ``X-Request-Id`` or made up),
written on the outbox rows it queues, and set again by the tasks that run them."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# What we accept from a caller: short, printable, no spaces (it goes into logs and headers).
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def accepted_or_new(offered: str | None) -> str:
    """The caller's id if it is a sane one, else a fresh one."""
    if offered and _ACCEPTABLE.match(offered):
        return offered
    return uuid.uuid4().hex
