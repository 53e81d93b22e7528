"""Errors whose message is safe and meant to be shown to the user as is."""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal with a human-readable reason (``str(err)``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(ServiceError):
    """The caller may not do this (not logged in, not a member, not admin)."""


class NotFound(ServiceError):
    """The thing asked for does not exist, or the caller may not know it does."""
