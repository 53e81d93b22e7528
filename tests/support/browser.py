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
