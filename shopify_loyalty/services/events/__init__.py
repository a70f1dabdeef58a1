"""Events out: the event catalog, written in the transaction that caused each event."""
