"""Imports point down only, no module imports itself back, and modules stay small.

The layer table below is the rule (``../shared/DESIGN.md`` §2, restated
here so the test needs nothing outside the repository). A module may import
its own layer or any layer below it; ``blabber.blabber`` and ``blabber.seed``
are entry points that nothing imports. Within a layer (and across them) the
import graph has no cycle, lazy imports inside functions included. Reflex is
imported only by the UI layers, the app module and the one transport module
that knows Reflex's packet format. No module of ``blabber/`` is longer than
``MAX_LINES``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "blabber"

# (module prefix, layer): the longest matching prefix wins; higher imports lower.
LAYERS: list[tuple[str, int]] = [
    ("blabber.blabber", 90),
    ("blabber.pages", 80),
    ("blabber.endpoints", 75),  # plain HTTP (Starlette) handlers: services and below, never Reflex
    ("blabber.components", 70),
    ("blabber.state", 60),
    ("blabber.realtime.runtime", 56),  # the worker's live runtime: hub + feeds + presence
    ("blabber.realtime.room_feeds", 54),
    ("blabber.realtime.transport", 52),  # Reflex's packet format and socket rooms, nothing else
    ("blabber.realtime.hub", 50),
    ("blabber.realtime.unread", 45),  # what a hub folds for tabs not viewing a room
    ("blabber.realtime.paging", 42),  # plain arithmetic over MessageView (services.views)
    ("blabber.seed", 45),  # CLI: may use services, db and below; never the UI
    ("blabber.services", 40),
    ("blabber.realtime.events", 30),
    ("blabber.realtime.feeds", 30),  # plain data: imports nothing of blabber
    ("blabber.realtime.shown", 30),  # plain rule: which messages a tab shows
    ("blabber.realtime.broker", 30),
    ("blabber.models", 20),
    ("blabber.security", 20),
    ("blabber.db", 20),
    ("blabber.hashing", 20),  # bcrypt in a low-priority process (used by db)
    ("blabber.storage", 20),  # files' bytes on disk or S3 (boto3): imports nothing of blabber
    ("blabber.settings", 10),
    ("blabber.routes", 10),
    ("blabber.heap", 10),  # process tuning for server workers: imports nothing of blabber
    ("blabber.headers", 10),  # ASGI security-headers middleware: imports only blabber.csp
    ("blabber.csp", 10),  # the policy's text from a build's hashes: imports nothing of blabber
    ("blabber.session_cookie", 10),  # the session cookie's format: imports nothing of blabber
    # Packages themselves (their __init__ holds only a docstring).
    ("blabber.realtime", 0),
    ("blabber", 0),
]
ENTRY_POINTS = {"blabber.blabber", "blabber.seed"}
REFLEX_ALLOWED = (
    "blabber.state",
    "blabber.components",
    "blabber.pages",
    "blabber.blabber",
    "blabber.realtime.transport",
)
MAX_LINES = 400
REFLEX_PACKAGES = {"reflex", "reflex_base"}
NEVER_BELOW_STATE = ("blabber.state", "blabber.components", "blabber.pages", "blabber.blabber")


def layer_of(module: str) -> int:
    best = max(
        (prefix for prefix, _ in LAYERS if module == prefix or module.startswith(prefix + ".")),
        key=len,
    )
    return dict(LAYERS)[best]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if ".web" not in p.parts}


def imports_of(path: Path, module: str, known: set[str]) -> set[str]:
    """Every module ``path`` imports, anywhere in the file (lazy imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, node.module] if node.module else base_parts)
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)  # ``from blabber import db``
    return found


MODULES = all_modules()


def test_every_module_has_a_layer():
    assert "blabber.services.messages" in MODULES
    for module in MODULES:
        layer_of(module)  # raises if a module matched no prefix


def test_layer_table_orders_the_design():
    chain = [
        "blabber.blabber",
        "blabber.pages.room",
        "blabber.components.room_view",
        "blabber.state.chat",
        "blabber.realtime.hub",
        "blabber.services.rooms",
        "blabber.realtime.broker",
        "blabber.models",
        "blabber.settings",
    ]
    layers = [layer_of(m) for m in chain]
    assert layers == sorted(layers, reverse=True)
    assert len(set(layers)) == len(layers)


def violations() -> list[str]:
    known = set(MODULES)
    problems = []
    for module, path in MODULES.items():
        mine = layer_of(module)
        for target in sorted(imports_of(path, module, known)):
            top = target.split(".")[0]
            if top in REFLEX_PACKAGES and not module.startswith(REFLEX_ALLOWED):
                problems.append(f"{module} imports {target} (Reflex only in the UI layers)")
            if top != "blabber":
                continue
            if target in ENTRY_POINTS:
                problems.append(f"{module} imports entry point {target}")
            elif layer_of(target) > mine:
                problems.append(
                    f"{module} (layer {mine}) imports {target} (layer {layer_of(target)})"
                )
            if not module.startswith(NEVER_BELOW_STATE) and target.startswith(NEVER_BELOW_STATE):
                problems.append(f"{module} imports UI module {target}")
    return problems


def test_imports_point_down_only():
    assert violations() == []


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ``blabber`` it imports (lazy imports included)."""
    known = set(MODULES)
    return {
        module: {t for t in imports_of(path, module, known) if t in known and t != module}
        for module, path in MODULES.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of more than one module."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, path: list[str], on_path: set[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_path:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in done:
                visit(nxt, [*path, nxt], on_path | {nxt})
        done.add(node)

    for start in sorted(graph):
        if start not in done:
            visit(start, [start], {start})
    return found


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_cycle_checker_can_fail():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    real = import_graph()
    real["blabber.realtime.hub"] = {*real["blabber.realtime.hub"], "blabber.realtime.runtime"}
    assert cycles(real), "a lazy back-import of the runtime from the hub must be a cycle"


def test_modules_stay_small():
    long = {
        module: n
        for module, path in MODULES.items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these modules (over {MAX_LINES} lines): {long}"


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("blabber.services.rooms", "from blabber.state.chat import ChatState", "layer"),
        ("blabber.services.rooms", "import reflex as rx", "Reflex"),
        ("blabber.models", "from reflex_base import x", "Reflex"),
        ("blabber.realtime.broker", "from blabber.services import rooms", "layer"),
        ("blabber.realtime.hub", "def f():\n    from blabber.state import chat", "layer"),
        ("blabber.realtime.runtime", "import reflex as rx", "Reflex"),
        ("blabber.seed", "from blabber.pages import home", "layer"),
        ("blabber.pages.home", "import blabber.blabber", "entry point"),
        ("blabber.services.rooms", "from ..state import chat", "layer"),
    ],
)
def test_checker_catches_upward_imports(tmp_path, monkeypatch, module, source, expected):
    """The rule can fail: an injected bad import is reported."""
    fake = tmp_path / "fake.py"
    fake.write_text(source, encoding="utf-8")
    real = MODULES[module]
    monkeypatch.setitem(MODULES, module, fake)
    try:
        problems = violations()
    finally:
        MODULES[module] = real
    # relative imports resolve against the real module's package
    assert any(module in p and expected in p for p in problems), problems


def test_relative_imports_resolve_against_the_package(tmp_path):
    fake = tmp_path / "x.py"
    fake.write_text("from . import rooms\nfrom ..realtime import events\n", encoding="utf-8")
    known = set(MODULES)
    assert imports_of(fake, "blabber.services.messages", known) == {
        "blabber.services.rooms",
        "blabber.realtime.events",
    }
