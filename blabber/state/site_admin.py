"""``/admin``, the site admin's page: people (deactivate, reactivate, promote) and invites.

Every handler is refused by the service unless the caller is a site admin
(``services.site_admin.require_site_admin``), in the transaction that acts.
The lists are bounded (``LIST_LIMIT`` people, 100 invites). A new invite's
link is shown once, with its QR code (``segno``, an SVG data URI: the page
fetches nothing).
"""

from __future__ import annotations

import functools

import reflex as rx
import segno

from blabber import routes
from blabber.services import invites, site_admin
from blabber.services.invites import InviteView
from blabber.services.site_admin import PersonRow
from blabber.settings import get_settings
from blabber.state.chat import FAILED, Caller, ChatState, signed_in

DOWN = "Could not do that right now; try again"
NOT_AN_ADMIN = "Only a site admin can open that page"


class SiteAdminState(ChatState):
    """The people list and its filter, the invites, and a new invite's link."""

    people: list[PersonRow] = []
    people_query: str = ""
    invite_list: list[InviteView] = []
    new_invite_link: str = ""
    new_invite_qr: str = ""
    admin_page_error: str = ""

    def _room_closed(self) -> None:
        """Nothing: the admin page is not about a room."""

    @rx.event
    @signed_in(page_load=True)
    async def open_admin(self, me: Caller):
        """on_load of /admin: site admins get the lists; anyone else goes home, told why."""
        await self._close_room()
        self.new_invite_link = self.new_invite_qr = self.admin_page_error = ""
        people = await self._call("admin_page_error", DOWN, site_admin.list_people, me.user_id, "")
        if people is FAILED:
            self.people, self.invite_list = [], []
            if self.admin_page_error.startswith("Only a site admin"):
                yield [rx.redirect(routes.HOME), rx.toast.error(NOT_AN_ADMIN)]
            return
        self.people, self.people_query = people, ""
        await self._reload_invites(me)

    @rx.event
    @signed_in
    async def filter_people(self, me: Caller, query: str):
        """``Filter people``."""
        self.people_query = query[:32] if isinstance(query, str) else ""
        await self._reload_people(me)

    async def _reload_people(self, me: Caller) -> None:
        found = await self._call(
            "admin_page_error", DOWN, site_admin.list_people, me.user_id, self.people_query
        )
        if found is not FAILED:
            self.people = found

    @rx.event
    @signed_in
    async def set_active(self, me: Caller, user_id: int, active: bool):
        """``Deactivate`` / ``Reactivate`` (a deactivated person's tabs are logged out live)."""
        self.admin_page_error = ""
        done = await self._call(
            "admin_page_error", DOWN, site_admin.set_active, me.user_id, user_id, active
        )
        if done is not FAILED:
            await self._reload_people(me)

    @rx.event
    @signed_in
    async def promote(self, me: Caller, user_id: int):
        """``Make site admin``."""
        self.admin_page_error = ""
        done = await self._call(
            "admin_page_error", DOWN, site_admin.make_site_admin, me.user_id, user_id
        )
        if done is not FAILED:
            await self._reload_people(me)

    @rx.event
    @signed_in
    async def create_invite(self, me: Caller, form_data: dict):
        """``Create invite link``: its expiry and number of uses; the link is shown once."""
        self.admin_page_error = ""
        form = form_data if isinstance(form_data, dict) else {}
        raw_uses = str(form.get("max_uses", "1")).strip()
        uses = int(raw_uses) if raw_uses.isdecimal() and len(raw_uses) <= 6 else 0
        make = functools.partial(
            invites.create_invite, expires_after=form.get("expires_after", "7d"), max_uses=uses
        )
        made = await self._call("admin_page_error", DOWN, make, me.user_id)
        if made is FAILED:
            return
        _view, code = made
        # The origin this page was opened at (checked against the allowed ones on connect).
        base = (self.router.headers.origin or get_settings().allowed_origins[0]).rstrip("/")
        self.new_invite_link = f"{base}{routes.SIGNUP}?invite={code}"
        self.new_invite_qr = segno.make(self.new_invite_link, error="m").svg_data_uri(scale=4)
        await self._reload_invites(me)

    @rx.event
    @signed_in
    async def revoke_invite(self, me: Caller, invite_id: int):
        """``Revoke``: nobody else gets in through that link."""
        self.admin_page_error = ""
        done = await self._call(
            "admin_page_error", DOWN, invites.revoke_invite, me.user_id, invite_id
        )
        if done is not FAILED:
            await self._reload_invites(me)

    async def _reload_invites(self, me: Caller) -> None:
        found = await self._call("admin_page_error", DOWN, invites.list_invites, me.user_id)
        if found is not FAILED:
            self.invite_list = found
