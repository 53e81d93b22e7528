"""Starting direct conversations: the ``New message`` picker and ``Message <username>``.

The picker searches people as I type (``Find people``), and I pick one or
several (up to ``conversations.MAX_PEOPLE`` with me); opening goes to the
conversation of exactly those people, the existing one if there is one.
Who the people are, and whether they exist, is decided by the service; the
lists here are bounded (matches and picks, a handful each).
"""

from __future__ import annotations

import reflex as rx

from blabber import routes
from blabber.services import add_people, conversations, people
from blabber.state.chat import FAILED, Caller, ChatState, signed_in

OPEN_DOWN = "Could not open the conversation right now; try again"
SEARCH_DOWN = "Could not search people right now; try again"
ADD_DOWN = "Could not add people right now; try again"
MAX_PICKED = conversations.MAX_PEOPLE - 1  # me included in the limit


class PeopleState(ChatState):
    """The picker's query, its matches and the people picked so far."""

    query: str = ""
    matches: list[str] = []
    picked: list[str] = []
    people_error: str = ""
    opening: bool = False
    # ``Add people`` (Members panel): its dialog, open until the people are added.
    adding_open: bool = False

    def _room_closed(self) -> None:
        """Nothing: the picker is not about the open room."""

    @rx.event
    @signed_in
    async def search_people(self, me: Caller, query: str):
        """``Find people``: the accounts whose name contains what I typed."""
        self.people_error = ""
        self.query = query[: people.MAX_QUERY] if isinstance(query, str) else ""
        found = await self._call(
            "people_error", SEARCH_DOWN, people.find_people, me.user_id, self.query
        )
        if found is not FAILED:
            self.matches = [name for name in found if name not in self.picked]

    @rx.event
    @signed_in
    async def pick(self, me: Caller, username: str):
        """Add a match to the conversation's people (the service checks them on opening)."""
        if isinstance(username, str) and username in self.matches:
            # Only a name the search offered: the list stays what the server said.
            self._pick(username)

    def _pick(self, username: str) -> None:
        if len(self.picked) >= MAX_PICKED:
            self.people_error = f"A conversation has at most {conversations.MAX_PEOPLE} people"
            return
        self.picked = [*self.picked, username]
        self.query, self.matches, self.people_error = "", [], ""

    @rx.event
    @signed_in
    async def enter_in_search(self, me: Caller, form_data: dict):
        """Enter in ``Find people``: pick the first match; with nothing typed, open (or add)."""
        if self.matches:
            self._pick(self.matches[0])
        elif not self.query and self.picked:
            act = self._add(me) if self.adding_open else self._open(me, list(self.picked))
            async for update in act:
                yield update

    @rx.event
    def unpick(self, username: str):
        """Take someone out of the picked people (``Remove <username>``)."""
        self.picked = [name for name in self.picked if name != username]

    @rx.event
    def reset_picker(self):
        """The dialog opened or closed: start from nobody."""
        self.query, self.matches, self.picked, self.people_error = "", [], [], ""

    @rx.event
    @signed_in
    async def open_picked(self, me: Caller):
        """``Open conversation`` with the picked people (or the first match, if none picked)."""
        names = list(self.picked) or self.matches[:1]
        if not names:
            self.people_error = "Pick at least one other person"
            return
        async for update in self._open(me, names):
            yield update

    @rx.event
    def show_adding(self, open_: bool):
        """``Add people`` opened or closed: start from nobody."""
        self.adding_open = bool(open_)
        self.query, self.matches, self.picked, self.people_error = "", [], [], ""

    @rx.event
    @signed_in(room=True)
    async def add_picked(self, me: Caller):
        """``Add`` in ``Add people``: the picked people become members of the open room."""
        async for update in self._add(me):
            yield update

    async def _add(self, me: Caller):
        names = list(self.picked) or self.matches[:1]
        if not names or not me.room_id:
            self.people_error = "Pick at least one person"
            return
        self.opening, self.people_error = True, ""
        yield
        added = await self._call(
            "people_error", ADD_DOWN, add_people.add_people, me.user_id, me.room_id, names
        )
        self.opening = False
        if added is FAILED:
            return
        self.adding_open = False
        self.query, self.matches, self.picked = "", [], []
        if added:
            yield rx.toast.success("Added " + ", ".join(added))

    @rx.event
    @signed_in
    async def message_user(self, me: Caller, username: str):
        """``Message <username>``: the 1:1 conversation with them (the service checks the name)."""
        async for update in self._open(me, [username] if isinstance(username, str) else []):
            yield update

    async def _open(self, me: Caller, names: list[str]):
        self.opening, self.people_error = True, ""
        yield
        found = await self._call(
            "people_error", OPEN_DOWN, conversations.open_direct, me.user_id, names
        )
        self.opening = False
        if found is FAILED:
            if self.people_error:
                yield rx.toast.error(self.people_error)
            return
        self.query, self.matches, self.picked = "", [], []
        yield rx.redirect(routes.direct_path(found.id))
