"""``/login``."""

import reflex as rx

from blabber import routes
from blabber.components.auth_forms import login_card
from blabber.state.auth import AuthState

PAGE = dict(route=routes.LOGIN, title="Log in · Blabber", on_load=AuthState.skip_if_signed_in)


def page() -> rx.Component:
    """The log-in form."""
    return login_card()
