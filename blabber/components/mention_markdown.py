"""``@name`` and ``@room`` in a rendered message: a small remark plugin, and its style.

Hand-written rather than from npm: the packages that exist (``remark-ping``,
``remark-mentions``) turn a mention into a link to a user page, which
Blabber has none of, and cannot tell the reader's own name apart. This one
is a tree walk of a few lines with no dependency.

``remarkMentions`` reads the same rule as the server
(``blabber.services.mentions``): an ``@`` that does not continue a word or
an address, then a name; only in text, so code spans and blocks (their
text is a value, not text nodes) and links (``bob@example.com`` is one,
made by remark-gfm) are left alone. A trailing ``.`` or ``-`` is not part
of the name unless the reader's own name ends with it. Each mention becomes
an mdast node that remark-rehype turns into ``<span class="mention">``
holding the same text as a text node: nothing the user typed becomes HTML.
A mention of the reader (any case), or ``@room``, also gets ``mention-me``.
"""

from __future__ import annotations

import reflex as rx

MENTION_CLASS = "mention"
MENTION_ME_CLASS = "mention-me"

MENTIONS_JS = r"""
function remarkMentions(options) {
  const me = String((options && options.me) || "").toLowerCase();
  // Python's \w is Unicode: letters, digits and _ (JavaScript's alone is ASCII).
  const FIND = /(?<![\p{L}\p{N}_.@-])@([A-Za-z0-9_.\-]{1,40})/gu;
  const NAME = /^[A-Za-z0-9_.\-]{3,32}$/;
  const SKIP = new Set(["link", "linkReference", "definition"]);
  function named(word) {
    const stripped = word.replace(/[.\-]+$/, "");
    if (stripped.toLowerCase() === "room") return [stripped, true];
    if (me && word.toLowerCase() === me) return [word, true];
    if (NAME.test(stripped)) return [stripped, me !== "" && stripped.toLowerCase() === me];
    if (NAME.test(word)) return [word, false];
    return null;
  }
  function split(value) {
    const out = [];
    let from = 0;
    for (const match of value.matchAll(FIND)) {
      const found = named(match[1]);
      if (found === null) continue;
      const [name, mine] = found;
      if (match.index > from) out.push({ type: "text", value: value.slice(from, match.index) });
      const className = mine ? ["mention", "mention-me"] : ["mention"];
      out.push({
        type: "mention",
        data: { hName: "span", hProperties: { className } },
        children: [{ type: "text", value: "@" + name }],
      });
      from = match.index + 1 + name.length;
    }
    if (out.length === 0) return null;
    if (from < value.length) out.push({ type: "text", value: value.slice(from) });
    return out;
  }
  function walk(node) {
    if (!Array.isArray(node.children) || SKIP.has(node.type)) return;
    const children = [];
    for (const child of node.children) {
      const parts = child.type === "text" && child.value.includes("@") ? split(child.value) : null;
      if (parts === null) {
        walk(child);
        children.push(child);
      } else {
        children.push(...parts);
      }
    }
    node.children = children;
  }
  return (tree) => walk(tree);
}
"""

# Accent text on a pale accent ground, and for the reader's own name the
# strongest text on a stronger ground: Radix steps 11 on 3 and 12 on 5 are
# over 4.5:1 in light and dark mode alike.
MENTION_CSS = {
    f"& .{MENTION_CLASS}": {
        "color": rx.color("accent", 11),
        "background": rx.color("accent", 3),
        "border_radius": "var(--radius-1)",
        "padding": "0 0.15em",
        "font_weight": "500",
    },
    f"& .{MENTION_CLASS}.{MENTION_ME_CLASS}": {
        "color": rx.color("accent", 12),
        "background": rx.color("accent", 5),
        "font_weight": "bold",
    },
}
