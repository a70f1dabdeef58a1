"""Installed shops: OAuth and token-exchange installs, expiring tokens, Admin clients, API keys."""
