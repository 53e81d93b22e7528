"""Blabber: a realtime multi-user chat built with Reflex."""
