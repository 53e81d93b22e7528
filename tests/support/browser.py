"""How every browser test launches Debian's Chromium (never a downloaded one)."""

CHROMIUM = "/usr/bin/chromium"
# The background-networking flags keep Chromium from dialling Google's hosts,
# which this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Every page reports each Content-Security-Policy violation on its console, so
# a test can fail on it (Chromium also logs the refusal itself).
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile || "?"}:${e.lineNumber || 0}`);
});
"""


def watch_csp(context) -> list[str]:
    """Record every CSP violation in ``context``'s pages; returns the (live) list."""
    found: list[str] = []
    context.add_init_script(_REPORT_CSP_VIOLATIONS)

    def on_console(message) -> None:
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            found.append(text)

    context.on("console", on_console)
    return found
