"""The composer of the open room: sending, and telling the room I am typing."""

from __future__ import annotations

import contextlib
import functools
import logging
import time
import uuid

import reflex as rx

from blabber import db
from blabber.realtime.runtime import runtime
from blabber.services import messages, typing_notices
from blabber.services.message_views import excerpt
from blabber.settings import get_settings
from blabber.state.chat import FAILED, Caller, ChatState, signed_in

log = logging.getLogger(__name__)
SEND_DOWN = "Could not send right now; your message is kept, try again"


class ComposerState(ChatState):
    """The draft's id, the send spinner and the composer's error line.

    The draft's text lives in the browser (the ``composer`` textarea) until
    a send succeeds; ``draft_id`` goes with it as the message's client id,
    so a send retried after a lost answer is stored once.
    """

    draft_id: str = ""
    composer_error: str = ""
    # What the last send should tell its sender (e.g. "@carol is not a member here, ...").
    composer_notice: str = ""
    sending: bool = False
    # ``Reply``: the message the next send answers ("Replying to <author>").
    reply_to_id: int = 0
    reply_author: str = ""
    reply_excerpt: str = ""
    # Where ``Attach files`` uploads go (assets/attachments.js reads both from the
    # tray): the open room's id (0: none yet), and the upload limit in bytes.
    upload_room_id: int = 0
    upload_max_bytes: int = 0

    _typing_sent_at: float = 0.0

    def _room_opened(self) -> None:
        self.draft_id = self.draft_id or uuid.uuid4().hex
        self.upload_max_bytes = get_settings().upload_max_mb * 1024 * 1024

    def _room_shown(self, room_id: int) -> None:
        """The room's membership was checked: files may be uploaded to it."""
        if self.upload_room_id != room_id:
            self.upload_room_id = room_id

    def _room_closed(self) -> None:
        self.upload_room_id = 0
        self.composer_error = ""  # an error about another room's draft
        self.composer_notice = ""
        self._set_reply(0, "", "")

    def _set_reply(self, message_id: int, author: str, excerpt: str) -> None:
        if self.reply_to_id != message_id:  # an equal assignment still sends a delta
            self.reply_to_id, self.reply_author, self.reply_excerpt = message_id, author, excerpt

    @rx.event
    @signed_in(room=True)
    async def start_reply(self, me: Caller, message_id: int):
        """``Reply``: the composer answers this message (a member's, in a room of mine)."""
        self.composer_error = ""
        view = await self._call(
            "composer_error", SEND_DOWN, messages.reply_preview, me.user_id, message_id
        )
        if view is FAILED:
            return
        if view.room_id != me.room_id:
            self.composer_error = "That message is in another room"
            return
        self._set_reply(view.id, view.author, excerpt(view.body, [f.name for f in view.files]))
        yield rx.set_focus("composer")

    @rx.event
    def cancel_reply(self):
        """The reply's ``Cancel reply``: the next message answers nothing."""
        self._set_reply(0, "", "")

    @rx.event
    @signed_in(replay="send")
    async def send(self, me: Caller, form_data: dict):
        """Send the composer's text. The draft is kept unless the send succeeds."""
        self.composer_error = ""
        if self.composer_notice:
            self.composer_notice = ""
        form = form_data if isinstance(form_data, dict) else {}
        body = str(form.get("body", ""))
        # Ids of the uploads in the tray (assets/attachments.js); the service checks them.
        attached = form.get("attachment_ids", "")
        attached = attached if isinstance(attached, str) else ""
        if not body.strip() and not attached.strip():
            return
        if not me.room_id:
            self.composer_error = "Open a room first"
            return
        client_id = str(form.get("client_id") or self.draft_id or uuid.uuid4().hex)
        self.sending = True
        yield  # the browser shows "Sending…" while the service runs
        mine = (me.user_id, me.room_id)
        send = functools.partial(
            messages.send_noting, reply_to_id=self.reply_to_id, attachment_ids=attached
        )
        sent = await self._call("composer_error", SEND_DOWN, send, *mine, body, client_id)
        self.sending = False
        if sent is FAILED:
            return  # the draft stays in the composer
        view = sent.view
        if sent.notice:
            self.composer_notice = sent.notice
        try:
            await runtime().publish_local(view)
        except Exception:  # stored; the broker (or a reload) shows it
            log.exception("showing a stored message while the broker is down failed")
        self.draft_id = uuid.uuid4().hex
        self._set_reply(0, "", "")
        # My own message: the list goes to its end to show it (assets/message_list.js).
        sent_files = [file.id for file in view.files]
        yield [
            rx.set_value("composer", ""),
            # Only the files this message took: one added while it was sending stays.
            rx.call_script(
                f"window.blabberAttachments && window.blabberAttachments.clear({sent_files})"
            ),
            rx.call_script("window.blabberScrollToLatest && window.blabberScrollToLatest()"),
        ]

    @rx.event
    @signed_in(room=True)
    async def typing(self, me: Caller):
        """The composer changed (throttled in the browser): tell the room.

        The server throttles too, since a crafted client need not: this tab
        at most once per ``typing_min_gap_seconds`` (no database or thread
        hop), and the service once per user and room whatever the number of
        tabs; the service also checks membership, so a stale tab of a kicked
        member announces nothing.
        """
        gap = get_settings().typing_min_gap_seconds
        now = time.time()
        if 0 <= now - self._typing_sent_at < gap:
            return
        self._typing_sent_at = now
        # Best effort: typing is ephemeral; a refusal or an outage shows nothing.
        with contextlib.suppress(Exception):
            await db.run_in_session(
                typing_notices.announce_typing, me.user_id, me.username, me.room_id, min_gap=gap
            )
