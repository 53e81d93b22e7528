"""The browser's own current path, as a Var (React Router's ``useLocation``).

``rx.State.router.url.path`` is the path the server last saw: after a click
on another room it still names the old page until that page's ``on_load``
answers. Keying an element on it remounts the element *then*, dropping
whatever was typed in between. :data:`CLIENT_PATH` changes in the same
render as the click.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import VarData

_HOOK = "const blabberClientPath = useLocation().pathname;"

CLIENT_PATH: rx.Var[str] = rx.Var(
    "blabberClientPath",
    _var_data=VarData(imports={"react-router": ["useLocation"]}, hooks={_HOOK: None}),
).to(str)
