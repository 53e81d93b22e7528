"""Profiles in the UI: the card a click on a name opens, and my own profile on /settings.

The card shows whoever was clicked (the service decides who exists); my
profile form starts from what is stored and saves all its fields at once.
The browser's time zone is remembered (for the local time others see on
my card) once per page load, best effort.
"""

from __future__ import annotations

import contextlib
import functools

import reflex as rx

from blabber import db
from blabber.services import profiles
from blabber.services.profiles import ProfileCard
from blabber.settings import get_settings
from blabber.state.chat import FAILED, Caller, ChatState, signed_in

DOWN = "Could not load that right now; try again"
SAVE_DOWN = "Could not save your profile right now; try again"
# The browser's IANA time zone, e.g. "Europe/Paris".
TIME_ZONE_JS = "Intl.DateTimeFormat().resolvedOptions().timeZone || ''"
# The settings form's fields (components/account_settings.py).
PROFILE_FIELD_IDS = {
    "display_name": "profile-display-name",
    "about": "profile-about",
    "status": "profile-status",
}


class ProfileState(ChatState):
    """The open card, and the settings page's profile form."""

    card: ProfileCard = ProfileCard()
    card_error: str = ""
    # My profile, as stored (the form's starting values).
    my_display_name: str = ""
    my_about: str = ""
    my_status: str = ""
    profile_error: str = ""
    profile_done: str = ""
    profile_ready: bool = False  # the form holds what is stored (Save profile waits for it)

    def _room_closed(self) -> None:
        """Nothing: profiles are not about the open room."""

    @rx.event
    @signed_in
    async def show_card(self, me: Caller, username: str, open_: bool):
        """A name was clicked (``open_``): load that person's card."""
        if not open_:
            return
        self.card, self.card_error = ProfileCard(username=str(username)[:32]), ""
        yield
        ttl = get_settings().presence_ttl_seconds
        card = await self._call(
            "card_error",
            DOWN,
            lambda s: profiles.profile_card(s, me.user_id, username, ttl_seconds=ttl),
        )
        if card is not FAILED:
            self.card = card

    @rx.event
    @signed_in(page_load=True)
    async def load_my_profile(self, me: Caller):
        """on_load of /settings: the form starts from my stored profile."""
        self.profile_error = self.profile_done = ""
        self.profile_ready = False
        user = await self._call("profile_error", DOWN, profiles.my_profile, me.user_id)
        if user is FAILED:
            return
        self.my_display_name = user.display_name or ""
        self.my_about = user.about or ""
        self.my_status = profiles.card_of(user, online=True).status
        self.profile_ready = True
        # The form's fields are the browser's (uncontrolled): fill them in.
        yield [
            rx.set_value(PROFILE_FIELD_IDS["display_name"], self.my_display_name),
            rx.set_value(PROFILE_FIELD_IDS["about"], self.my_about),
            rx.set_value(PROFILE_FIELD_IDS["status"], self.my_status),
        ]

    @rx.event
    @signed_in
    async def save_profile(self, me: Caller, form_data: dict):
        """``Save profile``: display name, About, status and when it clears, at once."""
        self.profile_error = self.profile_done = ""
        form = form_data if isinstance(form_data, dict) else {}
        fields = {
            "display_name": form.get("display_name", ""),
            "about": form.get("about", ""),
            "status": form.get("status", ""),
            "clear_after": form.get("clear_after", "never"),
        }
        save = functools.partial(profiles.update_profile, **fields)
        card = await self._call("profile_error", SAVE_DOWN, save, me.user_id)
        if card is not FAILED:
            self.my_display_name, self.my_about = card.display_name, card.about
            self.my_status = card.status
            self.profile_done = "Profile saved."

    @rx.event
    @signed_in(page_load=True)
    async def remember_time_zone(self, me: Caller, time_zone: str):
        """The browser's time zone, from the shell's first render (best effort, no message)."""
        with contextlib.suppress(Exception):
            await db.run_in_session(profiles.remember_time_zone, me.user_id, time_zone)


def remember_time_zone_script():
    """The script the shell runs once per page load to hand over the browser's time zone."""
    return rx.call_script(TIME_ZONE_JS, callback=ProfileState.remember_time_zone)
