"""``/settings``: my account — change password, ``Log out everywhere``, ``Delete account``.

The rules (current password first, which sessions end) are the service's
(``services.account_settings``); this state says how it went. Password
checks run in the bcrypt pool (``db.run_password_work``), off the event loop.
"""

from __future__ import annotations

import logging

import reflex as rx

from blabber import db
from blabber.realtime.runtime import runtime
from blabber.services import account_settings
from blabber.services.errors import ServiceError
from blabber.state.auth import AuthState, signed_out_elsewhere
from blabber.state.chat import Caller, ChatState, signed_in

log = logging.getLogger(__name__)
DOWN = "Could not do that right now; try again in a moment"
PASSWORD_FIELDS = ("current_password", "new_password", "confirm_password")


class AccountState(ChatState):
    """What the settings page says after each action (the forms hold the rest)."""

    password_error: str = ""
    password_done: str = ""
    account_error: str = ""

    def _room_closed(self) -> None:
        """Nothing: the settings page is not about a room."""

    @rx.event
    @signed_in(page_load=True)
    async def open_settings(self, me: Caller):
        """on_load of ``/settings``: no room open, fresh messages."""
        await self._close_room()
        self.password_error = self.password_done = self.account_error = ""

    @rx.event
    @signed_in
    async def change_password(self, me: Caller, form_data: dict):
        """``Change password``: the current one, then the new one twice."""
        self.password_error = self.password_done = ""
        form = form_data if isinstance(form_data, dict) else {}
        current, new, again = (str(form.get(name, "")) for name in PASSWORD_FIELDS)
        if new != again:
            self.password_error = "The new passwords do not match"  # noqa: S105 - a message
            return
        auth = await self.get_state(AuthState)
        ended = await self._run(
            "password_error",
            account_settings.change_password,
            me.user_id,
            current,
            new,
            auth._token_hash,
        )
        if ended is not None:
            others = "1 other session was" if ended == 1 else f"{ended} other sessions were"
            self.password_done = f"Password changed. {others} logged out."
            yield [rx.set_value(name, "") for name in PASSWORD_FIELDS]

    @rx.event
    @signed_in
    async def log_out_everywhere(self, me: Caller):
        """``Log out everywhere``: every session of mine ends, this one too."""
        if (
            await self._run("account_error", account_settings.log_out_everywhere, me.user_id)
            is None
        ):
            return None
        return await self._signed_out()

    @rx.event
    @signed_in
    async def delete_account(self, me: Caller, form_data: dict):
        """``Delete account``, confirmed with my password."""
        form = form_data if isinstance(form_data, dict) else {}
        password = str(form.get("delete_password", ""))
        done = await self._run(
            "account_error", account_settings.delete_account, me.user_id, password
        )
        if done is None:
            return None
        return await self._signed_out()

    async def _run(self, error_var: str, service, *args):
        """The service's answer; None (and the reason in ``error_var``) when it refused."""
        try:
            answer = await db.run_password_work(service, *args)
        except ServiceError as err:
            setattr(self, error_var, err.message)
            return None
        except Exception:
            log.warning("%s failed", service.__name__, exc_info=True)
            setattr(self, error_var, DOWN)
            return None
        return answer if answer is not None else True

    async def _signed_out(self):
        """This tab's session has ended: forget it here and go to the log-in page."""
        auth = await self.get_state(AuthState)
        auth._forget()
        await runtime().follow(self._token())
        return signed_out_elsewhere()
