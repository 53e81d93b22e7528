"""The chat screen's shared context, and the one helper every chat action goes through.

The chat screen is split by feature into substates of :class:`ChatState`:
the rooms sidebar (``state/sidebar.py``), the open room and its paging
(``state/room.py``), the composer (``state/composer.py``) and the room
admin's tools (``state/admin.py``). ``ChatState`` itself holds only what
they all read: who the tab is and which room it shows. Reflex loads a
substate together with its parents, not its siblings, so an action pays
only for its own feature's vars (with the Redis state manager, one fetch).

Every public handler is an RPC any client can call with any payload.
Identity comes from :class:`AuthState` (proven on this socket), never from
an argument: handlers are written as ``@signed_in async def act(self, me, ...)``
and run only for a verified caller (:func:`signed_in`). Services check
membership and rights in the same transaction as the change;
:meth:`ChatState._call` turns their refusals into the message the user reads.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from blabber import db, routes
from blabber.realtime.hub import Hub, get_hub
from blabber.realtime.runtime import runtime
from blabber.services.errors import ServiceError
from blabber.state.auth import AuthState

log = logging.getLogger(__name__)
FAILED = object()  # what ChatState._call returns when the service refused or failed


@dataclasses.dataclass(frozen=True)
class Caller:
    """The verified caller of a chat action and the room their tab shows (0: none)."""

    user_id: int
    username: str
    room_id: int


class ChatState(rx.State):
    """Who this tab is and which room it shows; parent of the chat screen's feature states."""

    # The open room's feed key (a room's name; a conversation's internal key),
    # how it is called on the page, its kind ("room"/"direct") and its URL.
    room_name: str = ""
    room_title: str = ""
    room_kind: str = "room"
    room_path: str = ""
    room_topic: str = ""
    room_private: bool = False

    _room_id: int = 0
    # A copy of the verified identity, refreshed by every action, so live
    # deliveries need not load AuthState (with the Redis state manager every
    # extra substate is another fetch and write).
    _me_id: int = 0
    _me_name: str = ""
    # The people I have a direct conversation with (the sidebar keeps it):
    # registered with the hub, so their presence reaches this tab.
    _contacts: list[int] = []
    # Set by ``resume`` when the action that found the state lost was a send:
    # the next successful room open submits the composer again (see resume).
    _replay_send: bool = False

    # -- identity ------------------------------------------------------------
    async def _caller(self) -> Caller | None:
        """The verified caller, or None (and then no room feed for this socket any more)."""
        auth = await self.get_state(AuthState)
        user_id = await auth._current_user_id()
        me = (user_id, auth.username) if user_id else (0, "")
        if (self._me_id, self._me_name) != me:  # an assignment alone makes the state dirty
            self._me_id, self._me_name = me
        if not user_id:  # expired or revoked
            await runtime().follow(self._token())
            return None
        return Caller(user_id, auth.username, self._room_id)

    async def _call(self, error_var: str, unavailable: str, service, *args: Any) -> Any:
        """Run ``service(session, *args)`` off the event loop; on failure say why in ``error_var``.

        A refusal (``ServiceError``) shows its own message; anything else
        (the database is down) shows ``unavailable``, and the details go to
        the log only. Returns :data:`FAILED` then, so the handler stops with
        the user's input (a draft, a form) untouched.
        """
        try:
            return await db.run_in_session(service, *args)
        except ServiceError as err:
            setattr(self, error_var, err.message)
        except Exception:
            log.warning("%s failed", getattr(service, "__name__", "a service"), exc_info=True)
            setattr(self, error_var, unavailable)
        return FAILED

    def _token(self) -> str:
        return self.router.session.client_token

    def _sid(self) -> str:
        return self.router.session.session_id

    # -- what this tab shows ---------------------------------------------------
    async def _register(self, user_id: int, member_rooms: list[int]) -> None:
        """Tell the hub what this tab shows, and move its socket to that room's feed."""
        self._tell_hub_view(user_id, member_rooms)
        await runtime().follow(self._token())

    def _tell_hub_view(self, user_id: int, member_rooms: list[int]) -> None:
        """Register what this tab shows with the hub (the socket is moved by the caller).

        ``member_rooms`` and the open room (``_room_id``) must be what the
        database said in this handler or in a live event the hub delivered
        to this registration, so a registration never revives access the
        tab has lost. Live events need only this: the runtime moves the
        socket after applying them.
        """
        hub = get_hub()
        if hub is not None:
            hub.watch(
                self._token(),
                user_id,
                self._room_id or None,
                member_rooms,
                sid=self._sid(),
                contacts=self._contacts,
            )

    def _my_hub(self) -> Hub | None:
        """The worker's hub, if this tab's registration there was made by this very socket."""
        hub = get_hub()
        return hub if hub is not None and hub.registered_by(self._token(), self._sid()) else None

    async def _close_room(self) -> None:
        """Show no room: each feature state forgets what belonged to it (``_room_closed``)."""
        self._room_id, self.room_name, self.room_title, self.room_path = 0, "", "", ""
        self.room_kind, self.room_topic, self.room_private = "room", "", False
        for feature in ChatState.get_substates():
            state = await self.get_state(feature)
            assert isinstance(state, ChatState)
            state._room_closed()

    def _room_closed(self) -> None:
        """Reset the vars that belong to the open room; each feature state overrides this."""

    @rx.event
    async def resume(self, replay: str = ""):
        """Carry on after the server lost this tab's state (e.g. Redis restarted).

        The socket stayed open, so no hydrate or page load rebuilt the tab:
        the identity is still proven (the handshake's cookie), but the tab's
        room, hub registration and the rest are gone. A chat action that finds
        the state so (:func:`signed_in`) answers with this, which runs the
        page's own load handler again. The composer is not touched, so a
        draft survives; when the lost action was the send itself
        (``replay="send"``), the room's load handler submits the composer
        once more after the room is open (``take_replay_send``), so the
        person's Enter is not swallowed. Nothing was stored by the dropped
        send, so the replay cannot post twice.
        """
        if await self._caller() is None:
            return rx.redirect(routes.LOGIN)
        self._replay_send = self._replay_send or replay == "send"
        path = self.router.url.path
        return _page_load("open_room" if "/rooms/" in path or "/dm/" in path else "open_home")


def take_replay_send(state: ChatState) -> EventSpec | None:
    """The composer's submit, once, if ``resume`` was asked to replay a lost send."""
    if not state._replay_send:
        return None
    state._replay_send = False
    return rx.call_script("document.getElementById('composer')?.form?.requestSubmit()")


def _page_load(name: str):
    """The feature state's page-load handler called ``name`` (feature states import this module)."""
    return next(getattr(s, name) for s in ChatState.get_substates() if name in s.event_handlers)


def signed_in(
    handler: Callable | None = None,
    *,
    room: bool = False,
    replay: str = "",
    page_load: bool = False,
) -> Any:
    """Run a chat action only for a verified caller, who is passed as ``me``.

    Write ``@rx.event`` over ``@signed_in``, and the handler as
    ``async def act(self, me: Caller, <frontend args>)``; ``me`` is not a
    frontend argument (the signature Reflex sees leaves it out). A caller
    without a verified session is sent to /login. With ``room=True`` the
    action also needs an open room and does nothing without one.

    A tab whose server state was lost has a proven identity (its socket's
    cookie) but no page: every action except a page's load handler
    (``page_load=True``) then answers with ``ChatState.resume`` instead of
    running, which rebuilds the page; ``replay="send"`` asks it to submit the
    composer again afterwards. A state is "lost" when no signed-in action
    has run in it yet (``_me_id`` unset): each page's load handler is one, so
    a real page always has it.
    """
    if handler is None:
        return functools.partial(signed_in, room=room, replay=replay, page_load=page_load)
    is_generator = inspect.isasyncgenfunction(handler)

    @functools.wraps(handler)
    async def action(self: ChatState, *args: Any, **kwargs: Any):
        lost = not page_load and not self._me_id
        me = await self._caller()
        if me is None:
            yield rx.redirect(routes.LOGIN)
            return
        if lost:
            resume: Any = ChatState.resume  # an event handler, called with its argument
            yield resume(replay)
            return
        if room and not me.room_id:
            return
        if is_generator:
            async for update in handler(self, me, *args, **kwargs):
                yield update
        else:
            result = await handler(self, me, *args, **kwargs)
            if result is not None:
                yield result

    # What Reflex reads to map frontend arguments: the handler's, without ``me``.
    signature = inspect.signature(handler)
    self_param, _me, *frontend = signature.parameters.values()
    action.__signature__ = signature.replace(parameters=[self_param, *frontend])  # type: ignore[attr-defined]
    action.__annotations__ = {k: v for k, v in handler.__annotations__.items() if k != "me"}
    action.signed_in = True  # type: ignore[attr-defined]  # tests/test_chat_states.py checks every handler
    action.page_load = page_load  # type: ignore[attr-defined]
    return action


def scroll_to_message(message_id: int) -> EventSpec:
    """Scroll the list to a message once it is on the page, and keep it there a moment.

    The row may render a moment after this arrives, and the list's
    auto-scroll may still move to the end as the rest of the page renders;
    so the script waits for the row, then centres it a few times over
    half a second.
    """
    return rx.call_script(
        "(() => { let n = 0; const go = () => {"
        f" const el = document.getElementById('message-{int(message_id)}');"
        " if (!el) { if (n++ < 60) setTimeout(go, 50); return; }"
        " el.focus({preventScroll: true});"
        " const centre = () => el.scrollIntoView({block: 'center'});"
        " for (const ms of [0, 100, 250, 500]) setTimeout(centre, ms);"
        " }; go(); })()"
    )
