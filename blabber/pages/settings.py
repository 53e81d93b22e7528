"""``/settings``: my account."""

import reflex as rx

from blabber import routes
from blabber.components.account_settings import account_settings
from blabber.components.shell import shell
from blabber.state.account import AccountState
from blabber.state.avatar import AvatarState
from blabber.state.profile import ProfileState

PAGE = dict(
    route=routes.SETTINGS,
    title="Settings · Blabber",
    on_load=[AccountState.open_settings, ProfileState.load_my_profile, AvatarState.load_my_avatar],
)


def page() -> rx.Component:
    """The settings, in the shell (my rooms stay at hand)."""
    return shell(account_settings(), with_members=False)
