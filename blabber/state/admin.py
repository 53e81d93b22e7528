"""The room admin's tools: ``Kick`` a member, the ``Banned`` list and ``Unban``."""

from __future__ import annotations

import contextlib
from typing import Any

import reflex as rx

from blabber import db
from blabber.services import room_admin, rooms
from blabber.services.views import BanView
from blabber.state.chat import FAILED, Caller, ChatState, signed_in

ADMIN_DOWN = "Could not do that right now; try again in a moment"
NOT_POSSIBLE = "That action is not possible"


class AdminState(ChatState):
    """Whether I administer the open room, and its bans (empty unless I do).

    ``is_admin`` only chooses what the page offers; the services check the
    role in the same transaction as a kick or unban.
    """

    is_admin: bool = False
    bans: list[BanView] = []
    admin_error: str = ""
    everyone_admin_only: bool = False  # only the admin may mention ``@room`` (their choice)
    add_admin_only: bool = False  # only the admin may use ``Add people``

    def _room_closed(self) -> None:
        self.is_admin, self.bans, self.admin_error = False, [], ""
        self.everyone_admin_only = self.add_admin_only = False

    @rx.event
    @signed_in(room=True)
    async def kick(self, me: Caller, user_id: int):
        """Admin: remove and ban a member of the open room."""
        await self._act(me, room_admin.kick_member, user_id)

    @rx.event
    @signed_in(room=True)
    async def unban(self, me: Caller, user_id: int):
        """Admin: lift a ban in the open room."""
        await self._act(me, room_admin.unban, user_id)

    @rx.event
    @signed_in(room=True)
    async def set_everyone_mentions(self, me: Caller, admin_only: bool):
        """Admin: whether only they may mention ``@room`` in the open room."""
        self.admin_error = ""
        stored = await self._call(
            "admin_error",
            ADMIN_DOWN,
            room_admin.set_everyone_mentions,
            me.user_id,
            me.room_id,
            admin_only,
        )
        if stored is not FAILED:
            self.everyone_admin_only = stored

    @rx.event
    @signed_in(room=True)
    async def set_add_people(self, me: Caller, admin_only: bool):
        """Admin: whether only they may add people to the open room."""
        self.admin_error = ""
        stored = await self._call(
            "admin_error",
            ADMIN_DOWN,
            room_admin.set_add_people_admin_only,
            me.user_id,
            me.room_id,
            admin_only,
        )
        if stored is not FAILED:
            self.add_admin_only = stored

    async def _act(self, me: Caller, action, target: Any) -> None:
        self.admin_error = ""
        # A crafted payload may be anything: only a decimal id reaches int().
        if not isinstance(target, int | str) or not str(target).lstrip("-").isdecimal():
            self.admin_error = NOT_POSSIBLE
            return
        mine = (me.user_id, me.room_id)
        done = await self._call("admin_error", ADMIN_DOWN, action, *mine, int(target))
        if done is not FAILED:
            with contextlib.suppress(Exception):  # the ban list refreshes on the next event
                await self._refresh(me.user_id)

    async def _refresh(self, user_id: int) -> None:
        """Re-read my role in the open room and, for its admin, the bans.

        Raises ``NotAllowed`` when I am no longer a member. The hub learns
        the role, so this tab hears of membership changes in the room.
        """
        room_id = self._room_id

        def load(session) -> tuple[bool, list[BanView], tuple[bool, bool]]:
            membership = rooms.require_member(session, user_id, room_id)
            admin = membership.role == "admin"
            bans = room_admin.list_bans(session, user_id, room_id) if admin else []
            rules = (
                room_admin.everyone_mentions_admin_only(session, room_id),
                room_admin.add_people_admin_only(session, room_id),
            )
            return admin, bans, rules

        self.is_admin, self.bans, rules = await db.run_in_session(load)
        self.everyone_admin_only, self.add_admin_only = rules
        self._tell_hub_role()

    def _tell_hub_role(self) -> None:
        """Tell the hub whether I administer the room this tab shows.

        The hub then routes the room's membership changes here, so the
        ``Banned`` list follows them. It keeps the flag across
        re-registrations of the same room by the same socket.
        """
        if (hub := self._my_hub()) is not None:
            hub.set_admin(self._token(), self.is_admin)
