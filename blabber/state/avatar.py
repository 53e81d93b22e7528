"""My profile picture on /settings: what is stored, and ``Remove picture``.

The picture itself is uploaded over HTTP (``assets/avatar_upload.js`` posts
it to endpoints.files.upload_avatar), since a file does not belong in the
websocket; the script then asks this state to re-read what is stored
(:meth:`AvatarState.load_my_avatar`), so the page shows what the server
kept, never what the browser assumes.
"""

from __future__ import annotations

import reflex as rx

from blabber import routes
from blabber.services import avatars, profiles
from blabber.state.chat import FAILED, Caller, ChatState, signed_in

DOWN = "Could not load your picture right now; try again"
REMOVE_DOWN = "Could not remove your picture right now; try again"


class AvatarState(ChatState):
    """The settings page's ``Profile picture``."""

    my_avatar: str = ""  # its URL; "" shows my initials
    my_initials: str = ""
    avatar_error: str = ""

    def _room_closed(self) -> None:
        """Nothing: my picture is not about the open room."""

    @rx.event
    @signed_in(page_load=True)
    async def load_my_avatar(self, me: Caller):
        """on_load of /settings, and after an upload: the picture as stored."""
        self.avatar_error = ""
        user = await self._call("avatar_error", DOWN, profiles.my_profile, me.user_id)
        if user is FAILED:
            return
        self.my_avatar = routes.avatar_path(me.user_id, user.avatar_key)
        self.my_initials = profiles.initials_of(user.display_name or user.username)

    @rx.event
    @signed_in
    async def remove_picture(self, me: Caller):
        """``Remove picture``: back to initials, everywhere (rooms re-read my messages)."""
        self.avatar_error = ""
        removed = await self._call("avatar_error", REMOVE_DOWN, avatars.remove_avatar, me.user_id)
        if removed is not FAILED:
            self.my_avatar = ""
