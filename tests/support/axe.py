"""Run axe-core (the accessibility checker, from npm) in a Playwright page.

``make setup-dev`` installs the pinned axe-core into ``.tools`` (see the
Makefile); the browser tests inject its ``axe.min.js`` into the page under
test and report what it finds at ``serious`` or ``critical`` impact, the
levels that stop some people from using a page at all (unreadable text,
a button a screen reader cannot name, a control the keyboard cannot reach).
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

from tests.support.appserver import PROJECT_ROOT

AXE_JS = PROJECT_ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
# Why axe may leave contrast unmeasured that says nothing of the colours: the
# element is partly scrolled away, covered by, or covering, another one.
_POSITIONAL = {"elmPartiallyObscured", "elmPartiallyObscuring", "outsideViewport", "bgOverlap"}
_HTML_CHARS = 160  # of each offending element's markup in a report


class AxeMissing(RuntimeError):
    """axe-core is not installed where the tests look for it."""


def missing() -> str | None:
    """Why axe-core cannot run (with how to install it), or None when it is installed."""
    if AXE_JS.is_file():
        return None
    return (
        f"axe-core not found at {AXE_JS}: run `make setup-dev` "
        "(it installs the pinned axe-core from npm into .tools/)"
    )


def require_axe() -> None:
    """Raise :class:`AxeMissing` with :func:`missing`'s reason unless axe-core is installed."""
    reason = missing()
    if reason:
        raise AxeMissing(reason)


# Resolves once no finite animation or transition runs (infinite ones, e.g. a
# spinner, never end and are skipped). Two frames first, so that one started by
# the last action (a hover, a class change) exists; repeated, since one
# animation ending can start another. At most ~5 s.
_SETTLED = """async () => {
  const frame = () => new Promise((done) => requestAnimationFrame(() => done()));
  for (let round = 0; round < 10; round++) {
    await frame(); await frame();
    const running = document.getAnimations().filter((a) => a.playState === 'running'
      && a.effect && Number.isFinite(a.effect.getComputedTiming().endTime));
    if (running.length === 0) return;
    await Promise.race([
      Promise.all(running.map((a) => a.finished.catch(() => null))),
      new Promise((done) => setTimeout(done, 500)),
    ]);
  }
}"""


def settle(page: Page) -> None:
    """Wait for opening and closing animations to end.

    A dialog or popover fades in: checked mid-fade, its text is a blend of
    its colours and the page's, and axe would report contrast the person
    never sees once it has opened.
    """
    page.evaluate(_SETTLED)


def audit(page: Page) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run axe on ``page`` as it is now: (serious/critical violations, unmeasured contrast).

    axe is injected once per document (again after a navigation); every run
    checks the whole document with all the rules axe runs by default,
    including content hidden by opacity (message actions) and open popovers
    and dialogs. The second list holds the text whose contrast axe could not
    measure ("incomplete" ``color-contrast`` nodes, e.g. on a background
    painted by a pseudo-element): left alone, such text would pass unseen.
    Text that is unmeasured only because of where it sits just now is left
    out (:func:`_only_where_it_sits`).
    """
    require_axe()
    settle(page)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, not as a <script> tag: the
        # app's Content-Security-Policy (rightly) refuses an injected inline script.
        page.evaluate(AXE_JS.read_text())
    results = page.evaluate(
        "async () => await window.axe.run(document, {resultTypes: ['violations', 'incomplete']})"
    )
    blocking = [v for v in results["violations"] if v.get("impact") in BLOCKING]
    unmeasured = [
        {**v, "nodes": [n for n in v["nodes"] if not _only_where_it_sits(n)]}
        for v in results["incomplete"]
        if v["id"] == "color-contrast"
    ]
    return blocking, [v for v in unmeasured if v["nodes"]]


def _only_where_it_sits(node: dict[str, Any]) -> bool:
    """axe could not measure this text only because of where it is at the moment.

    E.g. a message row half scrolled out of the list: the same text is
    measured in the rows that are in view.
    """
    keys = {(c.get("data") or {}).get("messageKey") for c in node.get("any", [])}
    return bool(keys) and keys <= _POSITIONAL


def _short_html(node: dict[str, Any]) -> str:
    html = " ".join(node["html"].split())
    return html if len(html) <= _HTML_CHARS else html[: _HTML_CHARS - 1] + "…"


def describe(violations: list[dict[str, Any]]) -> str:
    """A report a person can act on: rule, impact, what it asks and where it fails."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    at {node['target']}: {_short_html(node)}")
            if summary:
                lines.append(f"       {summary[:300]}")
    return "\n".join(lines)


def describe_unmeasured(incomplete: list[dict[str, Any]]) -> str:
    """Where axe could not measure text contrast, and why."""
    lines = []
    for v in incomplete:
        for node in v["nodes"]:
            why = "; ".join(c.get("message") or "" for c in node.get("any", []))
            lines.append(f"- at {node['target']}: {_short_html(node)}\n       {why[:300]}")
    return "\n".join(lines)


def assert_accessible(page: Page, where: str) -> None:
    """Fail with an actionable report on a serious or critical violation, or unmeasured contrast."""
    blocking, unmeasured = audit(page)
    problems = []
    if blocking:
        problems.append(
            f"{len(blocking)} serious/critical rule(s) fail on {where}:\n{describe(blocking)}"
        )
    if unmeasured:
        problems.append(
            f"text contrast axe could not measure on {where} (give the text a background "
            f"axe can see):\n{describe_unmeasured(unmeasured)}"
        )
    assert not problems, "axe-core: " + "\n".join(problems)
