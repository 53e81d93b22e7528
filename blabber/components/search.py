"""``Search messages`` in the sidebar, and the results panel it opens (bound to SearchState).

Ctrl+K / Cmd+K or ``/`` (outside a text field) focuses the box
(``assets/search_keys.js``); Enter searches. Each result shows where, who,
when, and a snippet whose matched words are ``<mark>``: the snippet's
segments are rendered as text, so a message's own markup shows as typed.
A result links to the message's permalink, which opens it highlighted.
"""

from __future__ import annotations

import reflex as rx

from blabber.components.common import error_text
from blabber.services.search import SearchHit
from blabber.state.search import SearchState

SEARCH_INPUT_ID = "search-messages"
REFINE_INPUT_ID = "search-refine"  # the panel's own field (the sidebar is behind the modal)
# Scrolling "More results" into view loads the next page (assets/search_keys.js).
WATCH_MORE_SCRIPT = (
    "window.blabberSearch && blabberSearch.watchMore(document.getElementById('search-more'))"
)


def _search_form(input_id: str, **field) -> rx.Component:
    return rx.form(
        rx.input(
            rx.input.slot(rx.icon("search", size=14, aria_hidden="true")),
            placeholder="Search messages",
            aria_label="Search messages",
            name="query",
            id=input_id,
            type="search",
            max_length=1000,
            auto_complete="off",
            width="100%",
            title="Search messages (Ctrl+K or /)",
            **field,
        ),
        on_submit=SearchState.search_messages,
        reset_on_submit=False,
        width="100%",
    )


def search_box() -> rx.Component:
    """The sidebar's search field."""
    return _search_form(SEARCH_INPUT_ID)


def _segment(segment) -> rx.Component:
    return rx.cond(
        segment.marked,
        rx.el.mark(segment.text, class_name="search-match"),
        rx.text.span(segment.text),
    )


def _hit(hit: SearchHit) -> rx.Component:
    return rx.link(
        rx.vstack(
            rx.hstack(
                rx.text(
                    rx.cond(hit.direct, "Direct message with ", "#"),
                    hit.place,
                    weight="bold",
                    size="2",
                ),
                rx.text(
                    rx.cond(hit.author_display != "", hit.author_display, hit.author),
                    size="2",
                    color_scheme="gray",
                    high_contrast=True,
                ),
                rx.spacer(),
                rx.el.time(
                    rx.moment(hit.created_at, format="D MMM YYYY, HH:mm", local=True),
                    date_time=hit.created_at,
                    font_size="var(--font-size-1)",
                    color=rx.color("gray", 11),
                ),
                width="100%",
                align="baseline",
                spacing="2",
            ),
            rx.text(rx.foreach(hit.segments, _segment), size="2", class_name="search-snippet"),
            spacing="1",
            width="100%",
            align="start",
        ),
        href=hit.url,
        on_click=SearchState.show_search(False),
        data_testid="search-result",
        underline="none",
        color=rx.color("gray", 12),
        display="block",
        padding="0.5em",
        border_radius="var(--radius-2)",
        _hover={"background_color": rx.color("gray", 3)},
    )


def _results() -> rx.Component:
    return rx.cond(
        SearchState.searching & (SearchState.search_hits.length() == 0),
        rx.hstack(rx.spinner(size="2"), rx.text("Searching…", size="2"), role="status"),
        rx.cond(
            SearchState.search_hits.length() > 0,
            rx.vstack(
                rx.foreach(SearchState.search_hits, _hit),
                rx.cond(
                    SearchState.more_results,
                    rx.button(
                        "More results",
                        on_click=SearchState.more_search_results,
                        loading=SearchState.searching,
                        variant="soft",
                        id="search-more",
                        on_mount=rx.call_script(WATCH_MORE_SCRIPT),
                    ),
                ),
                spacing="1",
                width="100%",
            ),
            rx.cond(
                SearchState.search_error == "",
                rx.text(
                    "No messages match. Try other words, or remove a filter.",
                    size="2",
                    data_testid="search-empty",
                ),
            ),
        ),
    )


def _order_button(label: str, order: str) -> rx.Component:
    """One of the two orders, pressed when it is the one shown."""
    chosen = SearchState.search_order == order
    return rx.button(
        label,
        on_click=SearchState.order_results(order),
        variant=rx.cond(chosen, "solid", "soft"),
        aria_pressed=rx.cond(chosen, "true", "false"),
        size="1",
    )


def search_panel() -> rx.Component:
    """The results dialog (opened by a search, closed by Escape or ``Close``)."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Search results"),
            rx.dialog.description(
                rx.text("For ", rx.code(SearchState.search_query), size="2"),
            ),
            rx.vstack(
                # Keyed by the query, so a new search shows its own text here.
                _search_form(
                    REFINE_INPUT_ID,
                    default_value=SearchState.search_query,
                    key=SearchState.search_query,
                ),
                rx.hstack(
                    _order_button("Newest first", "newest"),
                    _order_button("Best match", "best"),
                    role="group",
                    aria_label="Order results",
                    spacing="1",
                ),
                error_text(SearchState.search_error, "search-error"),
                rx.foreach(
                    SearchState.search_notes,
                    lambda note: rx.text(note, size="1", color_scheme="gray", high_contrast=True),
                ),
                rx.scroll_area(
                    _results(),
                    type="auto",
                    scrollbars="vertical",
                    max_height="60vh",
                    id="search-results",
                ),
                rx.hstack(
                    rx.spacer(),
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            max_width="640px",
        ),
        open=SearchState.search_open,
        on_open_change=SearchState.show_search,
    )
