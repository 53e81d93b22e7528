"""``Profile picture`` on /settings: the picture, ``Upload picture`` and ``Remove picture``.

``Upload picture`` opens a hidden file input that ``assets/avatar_upload.js``
watches: it posts the chosen picture to ``/api/avatar``, writes its progress
or refusal into the ``data-avatar-status`` line (React renders that line
empty and never touches it), then presses the hidden ``Refresh picture``
button, whose handler re-reads what the server stored.
"""

from __future__ import annotations

import reflex as rx

from blabber import routes
from blabber.components.common import error_text
from blabber.services import avatars
from blabber.state.avatar import AvatarState

AVATAR_MAX_MB = avatars.MAX_MB  # said to the person before they pick


def profile_picture() -> rx.Component:
    """The section: picture, its two buttons and the status line."""
    return rx.vstack(
        rx.heading("Profile picture", size="3", as_="h2"),
        rx.hstack(
            rx.avatar(
                src=AvatarState.my_avatar,
                fallback=AvatarState.my_initials,
                size="6",
                radius="full",
                variant="soft",
                high_contrast=True,
                aria_hidden="true",  # decorative: the section's heading names it
                data_testid="my-picture",
            ),
            rx.vstack(
                rx.button(
                    "Upload picture",
                    type="button",
                    variant="soft",
                    size="2",
                    data_avatar_button=True,
                ),
                rx.el.input(
                    type="file",
                    accept="image/png,image/jpeg,image/gif,image/webp",
                    aria_label="Choose a profile picture",
                    tab_index=-1,
                    data_avatar_input=True,
                    data_upload_url=routes.AVATAR_UPLOAD,
                    data_max_bytes=AVATAR_MAX_MB * 1024 * 1024,
                    style={"display": "none"},
                ),
                rx.cond(
                    AvatarState.my_avatar != "",
                    rx.button(
                        "Remove picture",
                        on_click=AvatarState.remove_picture,
                        variant="ghost",
                        color_scheme="gray",
                        size="2",
                    ),
                ),
                rx.button(
                    "Refresh picture",
                    on_click=AvatarState.load_my_avatar,
                    data_avatar_refresh=True,
                    type="button",
                    style={"display": "none"},
                ),
                spacing="2",
                align="start",
            ),
            spacing="4",
            align="center",
        ),
        rx.text(
            f"PNG, JPEG, GIF or WebP, up to {AVATAR_MAX_MB} MB; it is cropped to a square.",
            size="1",
            color=rx.color("gray", 11),
        ),
        rx.el.p(data_avatar_status=True, role="status", style={"font_size": "0.875em"}),
        error_text(AvatarState.avatar_error, "avatar-error"),
        spacing="2",
        width="100%",
    )
