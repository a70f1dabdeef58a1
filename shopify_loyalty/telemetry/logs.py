"""Logs as JSON lines (python-json-logger), each with the request id of the work in hand.

``LOG_FORMAT=text`` gives plain lines for a developer's terminal. The request id is added to
every record by the record factory, so it reaches every handler (pytest's too).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from shopify_loyalty.telemetry.context import request_id

JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
_configured = False


def install_request_id_on_records() -> None:
    old_factory = logging.getLogRecordFactory()
    if getattr(old_factory, "adds_request_id", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = old_factory(*args, **kwargs)
        record.request_id = request_id.get()
        return record

    factory.adds_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def configure(log_format: str, level: str = "INFO") -> None:
    """Log to stderr in ``log_format`` (json or text); once per process."""
    global _configured
    install_request_id_on_records()
    if _configured:
        return
    _configured = True
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "text":
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    else:
        handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields={
            "asctime": "time", "levelname": "level", "name": "logger"}))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
