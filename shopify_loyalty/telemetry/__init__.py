"""Telemetry: the request id carried through requests and tasks, JSON logs, and metrics."""
