"""Reflex states: thin handlers that check identity and call services."""
