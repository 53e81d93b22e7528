"""``/signup``."""

import reflex as rx

from blabber import routes
from blabber.components.auth_forms import signup_card
from blabber.state.auth import AuthState

PAGE = dict(route=routes.SIGNUP, title="Sign up · Blabber", on_load=AuthState.skip_if_signed_in)


def page() -> rx.Component:
    """The sign-up form."""
    return signup_card()
