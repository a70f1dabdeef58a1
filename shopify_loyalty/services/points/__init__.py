"""The points ledger and what moves it directly: posting, pending points, exports."""
