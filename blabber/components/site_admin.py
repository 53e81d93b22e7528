"""``/admin``, the site admin's page: People, then Invite links.

People: ``Filter people``, last seen, ``Deactivate``/``Reactivate`` and
``Make site admin``. Invite links: ``Create invite link`` (its expiry and
uses), the new link with its QR code, and the list with ``Revoke``.
"""

from __future__ import annotations

import reflex as rx

from blabber.components.common import error_text
from blabber.services.invites import InviteView
from blabber.services.site_admin import PersonRow
from blabber.state.auth import AuthState
from blabber.state.site_admin import SiteAdminState


def _person(person: rx.Var[PersonRow]) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(
                person.username,
                rx.cond(person.display_name != "", " · " + person.display_name, ""),
                weight="bold",
                size="2",
            ),
            rx.text(
                rx.cond(person.last_seen != "", "Last seen " + person.last_seen[:16], "Never seen"),
                rx.cond(person.site_admin, " · site admin", ""),
                rx.cond(person.active, "", " · deactivated"),
                size="1",
                color_scheme="gray",
            ),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.cond(
            person.username != AuthState.username,
            rx.hstack(
                rx.cond(
                    person.active,
                    rx.button(
                        "Deactivate",
                        on_click=SiteAdminState.set_active(person.id, False),
                        aria_label="Deactivate " + person.username,
                        size="1",
                        color_scheme="red",
                        variant="soft",
                        high_contrast=True,
                    ),
                    rx.button(
                        "Reactivate",
                        on_click=SiteAdminState.set_active(person.id, True),
                        aria_label="Reactivate " + person.username,
                        size="1",
                        variant="soft",
                    ),
                ),
                rx.cond(
                    ~person.site_admin & person.active,
                    rx.button(
                        "Make site admin",
                        on_click=SiteAdminState.promote(person.id),
                        aria_label="Make " + person.username + " a site admin",
                        size="1",
                        variant="soft",
                        color_scheme="gray",
                    ),
                ),
                spacing="2",
            ),
        ),
        width="100%",
        align="center",
        padding_y="0.3em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        data_testid="person-row",
    )


def _invite(invite: rx.Var[InviteView]) -> rx.Component:
    return rx.hstack(
        rx.text(
            "Made ",
            invite.created_at[:16],
            " · used ",
            invite.uses.to_string(),
            " of ",
            invite.max_uses.to_string(),
            rx.cond(invite.expires_at != "", " · expires " + invite.expires_at[:16], ""),
            rx.cond(invite.active, "", " · no longer valid"),
            size="2",
            flex="1",
        ),
        rx.cond(
            invite.active,
            rx.button(
                "Revoke",
                on_click=SiteAdminState.revoke_invite(invite.id),
                size="1",
                variant="soft",
                color_scheme="gray",
            ),
        ),
        width="100%",
        align="center",
        data_testid="invite-row",
    )


def _new_invite() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.el.label(
                rx.vstack(
                    rx.text("Expires after", size="2", weight="bold"),
                    rx.select.root(
                        rx.select.trigger(aria_label="Expires after"),
                        rx.select.content(
                            *[
                                rx.select.item(label, value=value)
                                for value, label in (
                                    ("1d", "1 day"),
                                    ("7d", "7 days"),
                                    ("30d", "30 days"),
                                    ("never", "Never"),
                                )
                            ]
                        ),
                        name="expires_after",
                        default_value="7d",
                    ),
                    spacing="1",
                ),
            ),
            rx.el.label(
                rx.vstack(
                    rx.text("Uses", size="2", weight="bold"),
                    rx.input(
                        name="max_uses",
                        type="number",
                        min="1",
                        max="1000",
                        default_value="1",
                        width="6em",
                    ),
                    spacing="1",
                ),
            ),
            rx.button("Create invite link", type="submit"),
            align="end",
            spacing="3",
            wrap="wrap",
        ),
        on_submit=SiteAdminState.create_invite,
        reset_on_submit=False,
    )


def _shown_link() -> rx.Component:
    return rx.cond(
        SiteAdminState.new_invite_link != "",
        rx.hstack(
            rx.image(
                src=SiteAdminState.new_invite_qr,
                alt="QR code of the invite link",
                width="132px",
                height="132px",
                background="white",
                padding="4px",
            ),
            rx.vstack(
                rx.text("Send this link (shown once):", size="2"),
                rx.code(
                    SiteAdminState.new_invite_link,
                    variant="outline",
                    word_break="break-all",
                    data_testid="invite-link",
                ),
                rx.button(
                    "Copy link",
                    on_click=rx.set_clipboard(SiteAdminState.new_invite_link),
                    size="1",
                    variant="soft",
                ),
                flex="1",
                min_width="0",
            ),
            width="100%",
            align="center",
            spacing="3",
        ),
    )


def site_admin_page() -> rx.Component:
    """The page: People, then Invite links."""
    return rx.box(
        rx.vstack(
            rx.heading("Admin", size="6", as_="h1"),
            error_text(SiteAdminState.admin_page_error, "admin-page-error"),
            rx.heading("People", size="3", as_="h2"),
            rx.input(
                placeholder="Filter people",
                aria_label="Filter people",
                value=SiteAdminState.people_query,
                on_change=SiteAdminState.filter_people.debounce(200),
                max_length=32,
                width="100%",
            ),
            rx.vstack(rx.foreach(SiteAdminState.people, _person), width="100%", spacing="0"),
            rx.divider(),
            rx.heading("Invite links", size="3", as_="h2"),
            rx.text(
                "People sign up through a link; each use counts, and you can revoke it.",
                size="2",
                color_scheme="gray",
            ),
            _new_invite(),
            _shown_link(),
            rx.vstack(rx.foreach(SiteAdminState.invite_list, _invite), width="100%"),
            spacing="3",
            max_width="40em",
            width="100%",
        ),
        padding="2em",
        overflow_y="auto",
        height="100%",
        width="100%",
    )
