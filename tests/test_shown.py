"""Which messages a room page shows (blabber.realtime.shown), pinned to the page itself.

The unit tests state the rule by cases. The last tests build ``room_view``
in this process and check the page's compiled rendering against
:func:`shown_messages`: that the message rows depend on exactly the vars the
function reads, and (with Node.js) that the very JavaScript Reflex ships for
the message list lists the same rows for the same var values.
"""

from __future__ import annotations

import importlib.resources
import json
import random
import re
import shutil
import subprocess
from typing import Any

import pytest

from blabber.realtime.shown import (
    CHAT_VARS,
    FEED_VARS,
    Message,
    feed_shown,
    shown_from_vars,
    shown_messages,
)


def msg(i: int, kind: str = "user") -> Message:
    return {"id": i, "kind": kind, "body": f"m{i}", "author": "" if kind == "system" else "amy"}


FEED = {"feed_room": "r", "recent": [msg(3), msg(4)], "tail": [msg(5)]}


def ids(**vars: Any) -> list[int]:
    """Ids shown for a page in room "r" holding ``FEED``, overridden by ``vars``."""
    page = dict(
        messages=[], room_name="r", loading_room=False, has_newer=False, show_from_id=0, **FEED
    )
    page.update(vars)
    return [m["id"] for m in shown_messages(**page)]


def test_a_freshly_opened_room_shows_the_feed_from_show_from_id():
    assert ids(show_from_id=4) == [4, 5]  # the newest page; 3 waits for "Load older"
    assert ids(show_from_id=3) == [3, 4, 5]  # "Load older" lowered show_from_id
    assert ids() == [3, 4, 5]


def test_paged_history_comes_first_then_the_feed_recent_before_tail():
    assert ids(messages=[msg(1, "system"), msg(2)], show_from_id=3) == [1, 2, 3, 4, 5]


def test_nothing_shows_while_the_room_loads():
    assert ids(loading_room=True) == []
    assert ids(loading_room=True, messages=[msg(1)]) == []


def test_reading_far_back_hides_the_feed():
    assert ids(messages=[msg(1), msg(2)], has_newer=True) == [1, 2]
    assert not feed_shown(room_name="r", has_newer=True, feed_room="r")


def test_the_feed_of_the_previous_room_never_shows_after_navigating():
    assert ids(room_name="other", show_from_id=3) == []
    assert ids(room_name="other", messages=[msg(7)]) == [7]
    assert feed_shown(room_name="r", has_newer=False, feed_room="r")


def test_vars_not_received_yet_count_as_their_defaults():
    chat: dict[str, Any] = {}
    feed = {"room": "r", "recent": [msg(3)], "tail": [msg(4)]}
    # The feed packet arrived before the tab's own room name: not shown yet.
    assert shown_from_vars(chat.get, feed.get) == []
    chat.update(room_name="r", show_from_id=4)
    assert [m["id"] for m in shown_from_vars(chat.get, feed.get)] == [4]
    assert shown_from_vars({}.get, {}.get) == []


# -- the page's own rendering ----------------------------------------------------
ROW_TESTIDS = ('"data-testid":"message"', '"data-testid":"system-line"')
STATE_VAR = re.compile(r"\b(reflex___state____state__\w+)\.(\w+)_rx_state_")


@pytest.fixture(scope="module")
def message_list():
    """The ``message-list`` component of ``room_view``, built as the page builds it."""
    from blabber.components.room_view import room_view

    def walk(c):
        yield c
        for child in getattr(c, "children", []):
            yield from walk(child)

    [found] = [c for c in walk(room_view()) if c.custom_attrs.get("data-testid") == "message-list"]
    return found


@pytest.fixture(scope="module")
def feed_state_name() -> str:
    """How the compiled page names FeedState (every other state is the tab's own)."""
    from blabber.state.feed import FeedState

    return str(FeedState.room).split(".", 1)[0]


def _is_row(node: dict) -> bool:
    return any(p in ROW_TESTIDS for p in node.get("props", []))


def _row_dependencies(node: Any, deps: frozenset = frozenset()):
    """For each message row of a rendered tree, the state vars deciding whether it shows.

    Those are the vars in the conditions and iterables above the row (the
    shapes ``reflex_base.compiler.templates._RenderUtils`` compiles).
    """
    if isinstance(node, str) or not node:
        return
    assert "match_cases" not in node, "rx.match in the message list: extend this walk"
    if "cond_state" in node:
        inner = deps | frozenset(STATE_VAR.findall(node["cond_state"]))
        yield from _row_dependencies(node["true_value"], inner)
        yield from _row_dependencies(node["false_value"], inner)
    elif "iterable" in node:
        inner = deps | frozenset(STATE_VAR.findall(node["iterable_state"]))
        for child in node.get("children", []):
            yield from _row_dependencies(child, inner)
    elif _is_row(node):
        yield deps
    else:
        for child in node.get("children", []):
            yield from _row_dependencies(child, deps)


def test_message_rows_depend_on_exactly_the_vars_of_the_rule(message_list, feed_state_name):
    rows = list(_row_dependencies(message_list.render()))
    assert len(rows) >= 3  # paged history, recent, tail (each a user row and a system line)
    used = {("feed" if state == feed_state_name else "tab", var) for d in rows for state, var in d}
    documented = {("tab", v) for v in CHAT_VARS} | {("feed", v) for v in FEED_VARS}
    assert used == documented


def _reflex_helpers() -> str:
    """``isTrue``, ``pyOr``, ``pyAnd`` as Reflex's ``utils/state.js`` defines them."""
    source = (
        importlib.resources.files("reflex_base") / ".templates" / "web" / "utils" / "state.js"
    ).read_text(encoding="utf-8")
    parts = []
    for name in ("isTrue", "pyOr", "pyAnd"):
        found = re.search(rf"^export const {name} = .*?(?=^/\*|^export )", source, re.S | re.M)
        assert found, f"{name} not found in Reflex's state.js"
        parts.append(found.group(0).removeprefix("export "))
    return "\n".join(parts)


# Evaluates the compiled message list for each case: ``jsx`` returns the rows
# (a message or system line yields its ``key``, the message id), every other
# name the code refers to (components, refs, event helpers) is a stub.
NODE_SCRIPT = """
%(helpers)s
const {js, tabStates, feedState, cases} = JSON.parse(require("fs").readFileSync(0, "utf8"));
const isRow = (props) => props && %(row_testids)s.includes(props["data-testid"]);
const jsx = (type, props, ...children) => isRow(props)
  ? [{row: props.key + ":" + props["data-testid"]}]
  : children.flat(Infinity).filter((c) => c && typeof c === "object" && "row" in c);
const render = new Function("scope", "with (scope) { return (" + js + "); }");
const out = cases.map(({tab, feed}) => {
  const env = {jsx, isTrue, pyOr, pyAnd, [feedState]: feed};
  for (const name of tabStates) env[name] = tab;
  const scope = new Proxy(env, {
    has: (t, k) => k in t || (typeof k === "string" && !(k in globalThis)),
    get: (t, k) => (k === Symbol.unscopables ? undefined : k in t ? t[k] : String(k)),
  });
  return render(scope).map((r) => r.row);
});
process.stdout.write(JSON.stringify(out));
"""


def _cases() -> list[dict[str, Any]]:
    """Hand-picked pages, then random ones (ids ascending as the server keeps them)."""
    picked = [
        dict(messages=[], room_name="r", loading_room=False, has_newer=False, show_from_id=4),
        dict(messages=[msg(1)], room_name="r", loading_room=True, has_newer=False, show_from_id=0),
        dict(messages=[msg(1)], room_name="r", loading_room=False, has_newer=True, show_from_id=3),
        dict(messages=[msg(1)], room_name="b", loading_room=False, has_newer=False, show_from_id=0),
        dict(messages=[], room_name="", loading_room=False, has_newer=False, show_from_id=0),
    ]
    cases = [{**c, **FEED} for c in picked]
    rng = random.Random(13)
    for _ in range(300):
        pool = sorted(rng.sample(range(1, 40), rng.randint(0, 12)))
        cut = rng.randint(0, len(pool))
        feed = [msg(i, rng.choice(["user", "system"])) for i in pool[cut:]]
        split = rng.randint(0, len(feed))
        cases.append(
            dict(
                messages=[msg(i, rng.choice(["user", "system"])) for i in pool[:cut]],
                room_name=rng.choice(["r", "b", ""]),
                loading_room=rng.random() < 0.2,
                has_newer=rng.random() < 0.3,
                show_from_id=rng.choice([0, *pool, 40]),
                feed_room=rng.choice(["r", "r", "b", ""]),
                recent=feed[:split],
                tail=feed[split:],
                # Newer versions of some recent rows; the kind flips, so the
                # rendered row (message or system line) shows which version won.
                changes={
                    str(m["id"]): msg(m["id"], "system" if m["kind"] == "user" else "user")
                    for m in feed[:split]
                    if rng.random() < 0.4
                },
            )
        )
    return cases


def test_the_compiled_message_list_shows_what_shown_messages_says(message_list, feed_state_name):
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js not installed: the compiled page cannot be evaluated")
    js = str(message_list)  # the JSX expression Reflex compiles into the page
    states = {state for state, _ in STATE_VAR.findall(js)}
    assert feed_state_name in states
    cases = _cases()
    vars_of = [
        {
            "tab": {f"{v}_rx_state_": c[v] for v in CHAT_VARS}
            | {"has_older_rx_state_": False, "loading_older_rx_state_": False},
            "feed": {
                "room_rx_state_": c["feed_room"],
                "recent_rx_state_": c["recent"],
                "tail_rx_state_": c["tail"],
                "changes_rx_state_": c.get("changes", {}),
                "has_older_rx_state_": False,
                "first_id_rx_state_": 0,
            },
        }
        for c in cases
    ]
    script = NODE_SCRIPT % {
        "helpers": _reflex_helpers(),
        "row_testids": json.dumps([p.split(":")[1].strip('"') for p in ROW_TESTIDS]),
    }
    payload = {
        "js": js,
        "tabStates": sorted(states - {feed_state_name}),
        "feedState": feed_state_name,
        "cases": vars_of,
    }
    done = subprocess.run(
        [node, "-e", script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rendered = json.loads(done.stdout)
    testid = {"user": "message", "system": "system-line"}
    expected = [[f"{m['id']}:{testid[m['kind']]}" for m in shown_messages(**c)] for c in cases]
    mismatches = [
        (c, got, want)
        for c, got, want in zip(cases, rendered, expected, strict=True)
        if got != want
    ]
    assert not mismatches, mismatches[:3]
    assert any(expected) and not all(expected)  # the cases exercise both outcomes
