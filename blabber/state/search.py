"""``Search messages``: the query, its results panel, and paging through the hits.

The results are a page of :class:`~blabber.services.search.SearchHit` at a
time, at most ``MAX_KEPT`` in all (then the panel asks for a narrower
query), so a tab never holds an unbounded list. A search runs when the
person submits (Enter), never per keystroke; it reads only what the
service's membership join allows, so there is nothing here to check.
"""

from __future__ import annotations

import asyncio
import functools

import reflex as rx

from blabber.services import search
from blabber.services.search import SearchHit
from blabber.state.chat import FAILED, Caller, ChatState, signed_in

# Searches running at once in this worker; the rest wait their turn. A search
# is a database read of 2-25 ms (bench/RESULTS.md §14): unbounded, a burst of
# them took the database threads and CPU that sends need (RESULTS §14).
SEARCHES_AT_ONCE = 1
_search_slots = asyncio.Semaphore(SEARCHES_AT_ONCE)
MAX_KEPT = 200
MAX_QUERY_KEPT = 1000
SEARCH_DOWN = "Search is unavailable right now; try again in a moment"
TOO_MANY = f"Showing the first {MAX_KEPT}: add words or filters to narrow the search"
ORDERS = (search.NEWEST, search.BEST)


class SearchState(ChatState):
    """The search box's submitted query and the results panel."""

    search_query: str = ""
    search_order: str = search.NEWEST
    search_hits: list[SearchHit] = []
    search_notes: list[str] = []
    search_error: str = ""
    search_open: bool = False
    searching: bool = False
    more_results: bool = False

    _cursor: int = 0

    def _room_closed(self) -> None:
        """Nothing: a search is not about the open room."""

    @rx.event
    @signed_in
    async def search_messages(self, me: Caller, form_data: dict):
        """Enter in ``Search messages``: the first page of hits, in the panel."""
        query = form_data.get("query", "") if isinstance(form_data, dict) else ""
        # Cut here too (the service reads at most MAX_QUERY_CHARS and says so).
        self.search_query = query[:MAX_QUERY_KEPT] if isinstance(query, str) else ""
        self.search_open = True
        async for update in self._first_page(me):
            yield update

    @rx.event
    @signed_in
    async def order_results(self, me: Caller, order: str | list[str]):
        """``Newest first`` / ``Best match``: the same query again, in that order."""
        if not isinstance(order, str) or order not in ORDERS or not self.search_query:
            return
        self.search_order = order
        async for update in self._first_page(me):
            yield update

    @rx.event
    @signed_in
    async def more_search_results(self, me: Caller):
        """``More results``: the next page after the ones shown."""
        if not self.more_results or not self._cursor or self.searching:
            return
        if len(self.search_hits) >= MAX_KEPT:
            self.more_results, self.search_notes = False, [*self.search_notes, TOO_MANY]
            return
        await self._page(me, self._cursor)

    @rx.event
    def show_search(self, open_: bool):
        """The panel opened or closed (closing forgets the hits: nothing stays in the tab)."""
        self.search_open = bool(open_)
        if not self.search_open:
            self.search_hits, self.search_notes, self.search_error = [], [], ""
            self.more_results, self._cursor = False, 0

    async def _first_page(self, me: Caller):
        self.search_hits, self.search_notes, self.search_error = [], [], ""
        self.more_results, self._cursor, self.searching = False, 0, True
        yield
        await self._page(me, 0)

    async def _page(self, me: Caller, cursor: int) -> None:
        self.searching = True
        service = functools.partial(search.search, order=self.search_order, cursor=cursor)
        page = await self._call("search_error", SEARCH_DOWN, service, me.user_id, self.search_query)
        self.searching = False
        if page is FAILED:
            return
        self.search_hits = [*self.search_hits, *page.hits][:MAX_KEPT]
        self.search_notes = list(page.notes)
        self._cursor = page.next_cursor
        self.more_results = bool(page.next_cursor)
