"""The floor: a minimal python-socketio server that only broadcasts.

It receives a body, adds it to the room's feed (Blabber's own
``RoomFeed``, so the payload is the same shape and size: the short ``tail``,
and ``recent`` when the tail rolls over) and emits the same
``{"delta": {FeedState: ...}}`` update to every client in the room. No
database, no state manager, no locks: whatever Blabber adds on top of this
is Blabber's cost, so every app figure is also printed as a ratio to this one.

Run: ``python -m bench.floor PORT [WINDOW]``.
"""

from __future__ import annotations

import datetime as dt
import sys
import urllib.parse

import socketio
from aiohttp import web

from bench.client import NAMESPACE, Protocol
from blabber.realtime.feeds import RoomFeed

WINDOW = 50


def _delta(proto: Protocol, payload: dict) -> dict:
    return {proto.feed_state: {k + "_rx_state_": v for k, v in payload.items()}}


def make_app(window: int = WINDOW) -> web.Application:
    """The aiohttp app serving socket.io on ``/_event``."""
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")
    app = web.Application()
    sio.attach(app, socketio_path="/_event")
    proto = Protocol()
    chat = proto.chat_state
    rooms: dict[str, RoomFeed] = {}
    room_of: dict[str, str] = {}
    next_id = [0]

    def _feed(room: str) -> RoomFeed:
        if room not in rooms:
            rooms[room] = RoomFeed(1, room, window=window, tail_max=max(4, window // 3))
            rooms[room].loaded = True
        return rooms[room]

    @sio.on("connect", namespace=NAMESPACE)
    async def connect(sid, environ, auth=None):
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        room = query.get("room", ["default"])[0]
        room_of[sid] = room
        await sio.enter_room(sid, room, namespace=NAMESPACE)
        feed = _feed(room)
        await sio.emit(
            "event",
            {
                "delta": {
                    **_delta(proto, feed.snapshot("", degraded=False)),
                    chat: {
                        "room_name_rx_state_": room,
                        "loading_room_rx_state_": False,
                    },
                },
                "events": [],
                "final": True,
            },
            to=sid,
            namespace=NAMESPACE,
        )

    @sio.on("disconnect", namespace=NAMESPACE)
    async def disconnect(sid, *args):
        room_of.pop(sid, None)

    @sio.on("send", namespace=NAMESPACE)
    async def send(sid, data):
        room = room_of.get(sid, "default")
        next_id[0] += 1
        msg = {
            "id": next_id[0],
            "room_id": 1,
            "author": "floor",
            "kind": "user",
            "body": str(data.get("body", "")),
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "client_id": str(data.get("client_id", "")),
        }
        payload, _ = _feed(room).add([msg])
        await sio.emit(
            "event",
            {"delta": _delta(proto, payload), "events": [], "final": True},
            room=room,
            namespace=NAMESPACE,
        )

    async def healthz(_request):
        return web.json_response({"status": "ok"})

    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    """Serve on the port given on the command line."""
    port = int(sys.argv[1])
    window = int(sys.argv[2]) if len(sys.argv) > 2 else WINDOW
    web.run_app(make_app(window), host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()
