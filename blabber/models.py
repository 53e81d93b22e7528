"""Every table Blabber stores, as SQLModel classes.

Conventions: timestamps are timezone-aware UTC (``UTCDateTime`` re-attaches
UTC on SQLite, which stores naive values); names that must be unique
regardless of case keep a lower-cased ``*_key`` column with the unique index,
so both SQLite and PostgreSQL enforce it the same way.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def utcnow() -> dt.datetime:
    """Now, as an aware UTC datetime (the only kind stored)."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """``DateTime(timezone=True)`` that always returns aware UTC values."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: D102
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use utcnow()")
        if value is not None and dialect.name == "sqlite":
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):  # noqa: D102
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


def _ts(*, nullable: bool = False, index: bool = False) -> sa.Column:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


class Role(enum.StrEnum):
    """A member's role in a room."""

    ADMIN = "admin"
    MEMBER = "member"


class RoomKind(enum.StrEnum):
    """A room people join by name, or a direct conversation of a fixed set of people."""

    ROOM = "room"
    DIRECT = "direct"


class NotifyLevel(enum.StrEnum):
    """How much a room may tell a member: everything, only mentions of them, or nothing."""

    ALL = "all"
    MENTIONS = "mentions"
    NOTHING = "nothing"


class MessageKind(enum.StrEnum):
    """User-written text, or a line the system writes (joins, leaves, kicks)."""

    USER = "user"
    SYSTEM = "system"


class User(SQLModel, table=True):
    """An account. ``username_key`` is the lower-cased name, unique."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=32)
    username_key: str = Field(max_length=32, unique=True)
    password_hash: str = Field(max_length=100)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())
    last_seen_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # Set when the account was deleted (services.account_settings): its name
    # stays taken and shows as "Deleted user"; nothing logs in as it.
    deleted_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # The profile (services.profiles): shown beside the username, never instead
    # of it where identity matters (mentions, the profile card's @username).
    display_name: str | None = Field(default=None, max_length=50)
    about: str | None = Field(default=None, max_length=300)
    status_text: str | None = Field(default=None, max_length=80)
    status_until: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    time_zone: str | None = Field(default=None, max_length=64)  # IANA, from the browser
    # The site's administrators (the first account, and whom they promote):
    # /admin, invites, deactivating accounts (services.site_admin).
    is_site_admin: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # A deactivated account cannot log in and has no sessions; reactivating undoes it.
    deactivated_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # The profile picture's storage key (services.avatars): a 256 px WebP; None shows initials.
    avatar_key: str | None = Field(default=None, max_length=100)
    # When a new picture was last set: new ones are spaced (services.avatars).
    avatar_changed_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Invite(SQLModel, table=True):
    """An invite link (``/signup?invite=<code>``): only the SHA-256 of its code is stored.

    Each sign-up through it takes one use, in the sign-up's transaction and
    only while it has uses left, has not expired and was not revoked.
    """

    __tablename__ = "invites"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_by: int = Field(foreign_key="users.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())
    expires_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    max_uses: int = 1
    uses: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    revoked_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class AuthSession(SQLModel, table=True):
    """A login. Only the SHA-256 of the token is stored, so a DB leak logs nobody in."""

    __tablename__ = "auth_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())
    expires_at: dt.datetime = Field(sa_column=_ts())
    revoked_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class LoginFailure(SQLModel, table=True):
    """One failed login, kept to rate-limit guessing per username and per client address."""

    __tablename__ = "login_failures"
    __table_args__ = (
        # The per-username limit counts each address apart (services.accounts._login_lock).
        sa.Index(
            "ix_login_failures_key_address_time", "username_key", "client_address", "created_at"
        ),
        sa.Index("ix_login_failures_address_time", "client_address", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username_key: str = Field(max_length=64)
    # security.address_key of the client; None when unknown (CLI, old rows).
    client_address: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())


class SignupAttempt(SQLModel, table=True):
    """One sign-up attempt that reached the database, kept to rate-limit sign-ups per address."""

    __tablename__ = "signup_attempts"
    __table_args__ = (sa.Index("ix_signup_attempts_address_time", "client_address", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    client_address: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())


class JoinAttempt(SQLModel, table=True):
    """One attempt to join a room the user was not in, kept to rate-limit joins per user.

    Until rooms can be private, a room's name is all it takes to read its
    history; counting joins keeps guessing names slow.
    """

    __tablename__ = "join_attempts"
    __table_args__ = (sa.Index("ix_join_attempts_user_time", "user_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())


class Room(SQLModel, table=True):
    """A chat room. ``name_key`` is the lower-cased name, unique.

    A direct conversation (``kind`` "direct") is a room too, so it has all a
    room has (history, live delivery, typing, message changes); its
    ``name_key`` is ``services.conversations.direct_key`` of its people,
    which no room name can equal (room names have no ``~``), so the same
    set of people always has the one conversation, and nobody can join it
    by name.
    """

    __tablename__ = "rooms"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40)
    name_key: str = Field(max_length=40, unique=True)
    description: str | None = Field(default=None, max_length=500)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())
    # The room's last change number (services.room_order): every new message,
    # edit, deletion and reaction takes the next one, in commit order.
    change_seq: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    kind: str = Field(
        default=RoomKind.ROOM.value, max_length=10, sa_column_kwargs={"server_default": "room"}
    )
    # ``@room`` names everyone; its admin may keep that to themself.
    everyone_mentions_admin_only: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
    # A private room is not in the directory and cannot be joined by name:
    # its ``name_key`` is a random ``~p…`` key (services.rooms.PRIVATE_KEY_PREFIX),
    # so its name stays free for a public room, and typing the name gets the
    # answer a name nobody uses gets. Its members bring people in (Add people).
    is_private: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    add_people_admin_only: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )


class RoomAlias(SQLModel, table=True):
    """A public name a room had (renamed, or made private): old links lead to it.

    Only members are led on (``rooms.room_for_member``); anyone else gets
    the answer a missing room gets. A new room taking the name drops it.
    """

    __tablename__ = "room_aliases"

    id: int | None = Field(default=None, primary_key=True)
    name_key: str = Field(max_length=40, unique=True)
    room_id: int = Field(foreign_key="rooms.id", index=True)


class Membership(SQLModel, table=True):
    """A user's place in a room, with their role and read position."""

    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("room_id", "user_id", name="uq_membership_room_user"),)

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="rooms.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    role: str = Field(default=Role.MEMBER.value, max_length=10)
    joined_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())
    last_read_message_id: int = Field(default=0)
    notify_level: str = Field(
        default=NotifyLevel.ALL.value, max_length=10, sa_column_kwargs={"server_default": "all"}
    )


class Mention(SQLModel, table=True):
    """A member named in a message (``@name``, or everyone for ``@room``), written with it.

    ``(user_id, room_id, message_id)`` serves "my mentions after my read mark"
    (the sidebar's mention badge), the same way unread counts are read.
    """

    __tablename__ = "mentions"
    __table_args__ = (
        sa.UniqueConstraint("message_id", "user_id", name="uq_mention_message_user"),
        sa.Index("ix_mentions_user_room_message", "user_id", "room_id", "message_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="messages.id")
    user_id: int = Field(foreign_key="users.id")
    room_id: int = Field(foreign_key="rooms.id")


class RoomBan(SQLModel, table=True):
    """A user the room's admin removed; they cannot rejoin until unbanned."""

    __tablename__ = "room_bans"
    __table_args__ = (sa.UniqueConstraint("room_id", "user_id", name="uq_room_ban_room_user"),)

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="rooms.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    banned_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())


class Message(SQLModel, table=True):
    """A line in a room. ``(room_id, id)`` serves "latest N" and "older than id".

    ``client_id`` is chosen by the sending tab; ``(author_id, client_id)`` is
    unique so a retried send cannot create a second row. ``seq`` is the
    room's change number of the message's latest version (creation, edit,
    deletion, reaction), so ``(room_id, seq)`` serves "everything that
    changed after N". A deleted message keeps its row (replies point at it)
    with an empty body: its text is gone.
    """

    __tablename__ = "messages"
    __table_args__ = (
        sa.Index("ix_messages_room_id_id", "room_id", "id"),
        sa.Index("ix_messages_room_id_seq", "room_id", "seq"),
        # "My messages lately": the send rate limit on every send, and search's
        # from: + after:. Without it both walked all of an author's messages.
        sa.Index("ix_messages_author_id_created_at", "author_id", "created_at"),
        sa.UniqueConstraint("author_id", "client_id", name="uq_message_author_client"),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="rooms.id")
    author_id: int | None = Field(default=None, foreign_key="users.id")
    kind: str = Field(default=MessageKind.USER.value, max_length=10)
    body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    client_id: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())
    seq: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    reply_to_id: int | None = Field(default=None, foreign_key="messages.id")
    edited_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    deleted_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # Its files' shown names, one per line, set at send: for the search index (0017).
    file_names: str = Field(
        default="", sa_column=sa.Column(sa.Text(), nullable=False, server_default="")
    )


# The message search index lives outside these models: migrations 0013 and 0017 made it,
# and database triggers keep it in step with ``messages`` (services/search*.py read
# it). On SQLite, the FTS5 table ``messages_fts`` and its shadow tables; on
# PostgreSQL, the column ``messages.search_vector`` and its GIN index. Schema
# comparisons (alembic autogenerate, tests/test_migrations.py) skip them.
# A future SQLite batch_alter_table on ``messages`` recreates the table and so
# drops its triggers: such a migration must create them again.
SEARCH_INDEX_OBJECTS = ("messages_fts", "search_vector", "ix_messages_search")


def is_search_index_object(name: str | None) -> bool:
    """Whether a schema object's name is part of the search index (not in these models)."""
    return bool(name) and str(name).startswith(SEARCH_INDEX_OBJECTS)


class Reaction(SQLModel, table=True):
    """One person's emoji on one message; a second click on the same emoji removes it."""

    __tablename__ = "reactions"
    __table_args__ = (
        sa.UniqueConstraint("message_id", "user_id", "emoji", name="uq_reaction_message_user"),
        sa.Index("ix_reactions_message_id", "message_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="messages.id")
    user_id: int = Field(foreign_key="users.id")
    emoji: str = Field(max_length=32)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())


class Attachment(SQLModel, table=True):
    """A file uploaded to a room; ``message_id`` is set when the message carrying it is sent.

    Readable by the room's current members once attached, and before that
    by its uploader only (services.files). ``storage_key`` (and the
    thumbnail's) are generated, never a user's file name; ``name`` is the
    sanitised name shown and offered on download. ``content_type`` is
    sniffed from the bytes. ``width``/``height`` are set for the raster
    images shown inline (orientation applied).
    """

    __tablename__ = "attachments"
    __table_args__ = (
        sa.Index("ix_attachments_message_id", "message_id"),
        sa.Index("ix_attachments_room_id", "room_id"),
        sa.Index("ix_attachments_uploader_id_created_at", "uploader_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="rooms.id")
    uploader_id: int = Field(foreign_key="users.id")
    message_id: int | None = Field(default=None, foreign_key="messages.id")
    position: int = 0  # its place among the message's files
    name: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    storage_key: str = Field(max_length=100, unique=True)
    thumb_key: str | None = Field(default=None, max_length=100)
    width: int = 0
    height: int = 0
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())


class PresenceConnection(SQLModel, table=True):
    """An open tab, heartbeated by the worker that holds its websocket.

    A user is online while any of their rows is fresher than the presence TTL,
    so a worker that dies without cleaning up stops counting by itself.
    """

    __tablename__ = "presence_connections"

    client_token: str = Field(primary_key=True, max_length=128)
    user_id: int = Field(foreign_key="users.id", index=True)
    worker_id: str = Field(max_length=64, index=True)
    heartbeat_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts(index=True))
