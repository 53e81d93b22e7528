"""The floor: a minimal python-socketio server that only broadcasts.

It receives a body, appends it to the room's window (the same shape and
bound as Blabber's ``messages`` var) and emits the same ``{"delta": ...}``
update to every client in the room. No database, no state manager, no
locks: whatever Blabber adds on top of this is Blabber's cost, so every app
figure is also printed as a ratio to this one.

Run: ``python -m bench.floor PORT [WINDOW]``.
"""

from __future__ import annotations

import datetime as dt
import sys
import urllib.parse

import socketio
from aiohttp import web

from bench.client import NAMESPACE, Protocol

WINDOW = 200


def make_app(window: int = WINDOW) -> web.Application:
    """The aiohttp app serving socket.io on ``/_event``."""
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")
    app = web.Application()
    sio.attach(app, socketio_path="/_event")
    chat = Protocol().chat_state
    rooms: dict[str, list[dict]] = {}
    room_of: dict[str, str] = {}
    next_id = [0]

    @sio.on("connect", namespace=NAMESPACE)
    async def connect(sid, environ, auth=None):
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        room = query.get("room", ["default"])[0]
        room_of[sid] = room
        await sio.enter_room(sid, room, namespace=NAMESPACE)
        history = rooms.setdefault(room, [])
        await sio.emit(
            "event",
            {
                "delta": {
                    chat: {
                        "messages_rx_state_": history,
                        "room_name_rx_state_": room,
                        "loading_room_rx_state_": False,
                    }
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
        history = rooms.setdefault(room, [])
        history.append(msg)
        del history[:-window]
        await sio.emit(
            "event",
            {"delta": {chat: {"messages_rx_state_": history}}, "events": [], "final": True},
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
