"""Message text as Markdown: formatting, never raw HTML, links that are safe to follow.

``react-markdown`` parses the text in the browser. Without ``rehype-raw`` it
turns any HTML it finds into a text node, so ``<b>x</b>`` or ``<script>`` show
literally. What the parser does produce is narrowed further here:

- every URL attribute goes through ``SAFE_URL``: an ``href`` survives only as
  an absolute ``http(s)://`` or ``mailto:`` URL; anything else (``javascript:``,
  ``data:``, relative links, every ``src``) becomes ``null``, which
  react-markdown leaves out, so such a link is text with no ``href`` at all;
- links open in a new tab with ``rel="noopener noreferrer"``;
- images are never fetched (no tracking pixels): an image shows its alt text;
- a fenced block is highlighted only for the languages in ``CODE_LANGUAGES``;
- a message that nests quotes and lists deeper than ``MAX_NESTING`` on one
  line is shown as plain text: the parser's cost grows faster than the depth
  (4,000 characters of ``1. 1. 1. …`` hung a tab for seconds) and a few
  thousand levels overflow its stack, which would freeze or crash every
  viewer's page.

Newlines are kept as line breaks (``remark-breaks``) because a chat message is
typed with Shift+Enter, and ``:shortcode:`` becomes its emoji (``remark-emoji``;
code spans and blocks are left alone); ``@name`` and ``@room`` are highlighted,
the reader's own name more (``mention_markdown.py``). Spacing is tight, as in a chat.
"""

from __future__ import annotations

import json

import reflex as rx
from reflex_base.utils.imports import ImportDict, ImportVar
from reflex_base.vars.base import Var
from reflex_components_core.el.elements.inline import A
from reflex_components_markdown.markdown import Markdown

from blabber.components.mention_markdown import MENTION_CSS, MENTIONS_JS

# react-markdown 10 calls urlTransform(url, key, node) for every URL attribute
# (href, src, cite, ...) and omits the attribute when it returns null.
SAFE_URL = Var(
    _js_expr=(
        "((url, key) => { const value = String(url ?? '').trim();"
        ' return key === "href" && /^(https?:\\/\\/|mailto:)/i.test(value) ? value : null; })'
    )
)
# Pinned: the bundle must not pick up a new release unreviewed.
REMARK_BREAKS = rx.markdown.plugin.create("remark-breaks@4.0.0", "remarkBreaks")
REMARK_EMOJI = rx.markdown.plugin.create("remark-emoji@5.0.2", "remarkEmoji")

MAX_NESTING = 8
# A line starting with more than MAX_NESTING quote or list markers. Written
# for JavaScript and Python alike (no \d: Python's also matches other digits).
# Each repetition starts with a marker, never a space, so it cannot backtrack
# more than a few characters: linear in the message's length.
_MARKER = r"(?:>|(?:[-+*]|[0-9]{1,9}[.)])(?=[ \t]))[ \t]*"
TOO_DEEP = rf"^[ \t]*(?:{_MARKER}){{{MAX_NESTING + 1}}}"

# Fence names people type -> the highlighter's grammar for them. Every target
# is a react-syntax-highlighter loader that registers under that same name.
# Any other name is shown unhighlighted: the library looks names up on a plain
# object, so ```constructor``` (or a loader that registers under another name)
# would make it reload the grammar forever, a busy loop in every viewer's tab.
_GRAMMARS = (
    "bash c clojure cpp csharp css dart diff docker elixir erlang go graphql haskell ini java "
    "javascript json jsx kotlin lua makefile markdown markup nginx objectivec perl php "
    "powershell protobuf python r ruby rust scala scss sql swift toml tsx typescript yaml"
).split()
_ALIASES = {
    "sh": "bash", "shell": "bash", "zsh": "bash", "console": "bash",
    "c++": "cpp", "cs": "csharp", "c#": "csharp", "dockerfile": "docker", "golang": "go",
    "hs": "haskell", "js": "javascript", "mjs": "javascript", "kt": "kotlin", "make": "makefile",
    "md": "markdown", "html": "markup", "xml": "markup", "svg": "markup", "objc": "objectivec",
    "ps1": "powershell", "proto": "protobuf", "py": "python", "python3": "python",
    "rb": "ruby", "rs": "rust", "ts": "typescript", "yml": "yaml", "patch": "diff",
}  # fmt: skip
CODE_LANGUAGES = {**{name: name for name in _GRAMMARS}, **_ALIASES}

IMAGE_ALT_CLASS = "md-image-alt"
_BLOCKS = "& p, & ul, & ol, & blockquote, & pre, & table, & h1, & h2, & h3, & h4, & h5, & h6, & hr"
_TEXT_BLOCKS = "& p, & li, & blockquote, & h1, & h2, & h3, & h4, & h5, & h6, & td, & th"
MARKDOWN_CSS = {
    "overflow_wrap": "anywhere",
    "min_width": "0",
    _BLOCKS: {"margin": "0.25em 0"},
    "& > :first-child": {"margin_top": "0"},
    "& > :last-child": {"margin_bottom": "0"},
    # Each paragraph and list item takes its direction from its own text.
    _TEXT_BLOCKS: {"unicode_bidi": "plaintext"},
    "& ul, & ol": {"padding_inline_start": "1.5em"},
    "& ul": {"list_style_type": "disc"},
    "& ol": {"list_style_type": "decimal"},
    "& li > ul, & li > ol": {"margin": "0"},
    "& a[href]": {"color": rx.color("accent", 11), "text_decoration": "underline"},
    "& blockquote": {
        "border_inline_start": f"3px solid {rx.color('gray', 6)}",
        "padding_inline_start": "0.75em",
        "color": rx.color("gray", 11),
    },
    "& h1, & h2, & h3, & h4, & h5, & h6": {"font_weight": "bold", "font_size": "1em"},
    "& h1": {"font_size": "1.25em"},
    "& h2": {"font_size": "1.125em"},
    "& :not(pre) > code": {
        "font_family": "var(--code-font-family)",
        "font_size": "0.9em",
        "padding": "0.1em 0.3em",
        "border_radius": "var(--radius-1)",
        "background": rx.color("gray", 3),
    },
    "& pre": {"max_width": "100%", "font_size": "0.875em"},
    "& table": {"border_collapse": "collapse"},
    "& td, & th": {"border": f"1px solid {rx.color('gray', 6)}", "padding": "0.1em 0.5em"},
    f"& .{IMAGE_ALT_CLASS}": {"color": rx.color("gray", 11)},
    **MENTION_CSS,
}


def _link(children: Var) -> rx.Component:
    # The plain <a> element: Reflex's rx.el.a and rx.link are router links that
    # would turn a missing href into "#" or navigate inside the app.
    return A.create(children, target="_blank", rel="noopener noreferrer")


def _image(children: Var) -> rx.Component:
    return rx.el.span(Var(_js_expr="props.alt"), class_name=IMAGE_ALT_CLASS)


def code_language(name: Var) -> Var:
    """The grammar for a fence named ``name`` (a JS string): from ``CODE_LANGUAGES``, else text."""
    known = json.dumps(CODE_LANGUAGES, sort_keys=True)
    return Var(
        _js_expr=(
            f"((name) => Object.hasOwn({known}, name) ? {known}[name] : 'text')"
            f"(String({name}).toLowerCase())"
        )
    )


def _code_block(code: Var, language: Var | None = None, **props) -> rx.Component:
    # Reflex also calls this without a language, only to collect imports.
    if language is not None:
        props["language"] = code_language(language)
    # a11y-dark in both colour modes: its token colours meet 4.5:1 on its own
    # background (the default one-light's green strings are 3.1:1, axe-core).
    return rx.code_block(
        code,
        theme=rx.code_block.themes.a11y_dark,
        wrap_long_lines=True,
        margin="0.25em 0",
        **props,
    )


def _plain(tag: str):
    element = getattr(rx.el, tag)
    return lambda children: element(children)


# Plain elements styled by MARKDOWN_CSS; Reflex's defaults add 1em margins and
# large headings, which suit a document, not a chat line.
COMPONENT_MAP = {
    **{
        tag: _plain(tag)
        for tag in ("p", "ul", "ol", "li", "code", "h1", "h2", "h3", "h4", "h5", "h6")
    },
    "a": _link,
    "img": _image,
    "pre": _code_block,
}


# Rendered messages by colour mode, reader and text, newest last, so a row that
# React mounts again (the message list's rows are keyed by position, and move
# when the live window rolls over) costs a lookup, not a parse. Bounded by count
# and by characters: at most a hundred maximum-size messages are held. The
# mention plugin is added here, with the reader's name (``me``) as its option,
# since that name is part of what the output depends on, like the colour mode.
CACHE_JS = """
const renderedMarkdown = new Map();
let renderedMarkdownChars = 0;
function CachedMarkdown(props) {
  const { resolvedColorMode } = useContext(ColorModeContext);
  const { me, ...options } = props;
  const reader = typeof me === "string" ? me : "";
  const key = resolvedColorMode + ":" + reader + ":" + props.children;
  let out = renderedMarkdown.get(key);
  if (out === undefined) {
    const plugins = [...(options.remarkPlugins || []), [remarkMentions, { me: reader }]];
    out = ReactMarkdown({ ...options, remarkPlugins: plugins });
    renderedMarkdownChars += key.length;
  } else {
    renderedMarkdown.delete(key);
  }
  renderedMarkdown.set(key, out);
  for (const old of renderedMarkdown.keys()) {
    if (renderedMarkdown.size <= 500 && renderedMarkdownChars <= 400000) break;
    renderedMarkdown.delete(old);
    renderedMarkdownChars -= old.length;
  }
  return out;
}
"""


class CachedMarkdown(Markdown):
    """``rx.markdown.root``, rendered through ``CACHE_JS``: one parse per distinct text.

    react-markdown's ``Markdown`` is a plain function of its props (no hooks),
    and every instance here has the same options, so its output for a text can
    be kept and handed back.
    """

    library = None  # type: ignore[assignment]
    tag = "CachedMarkdown"
    is_default = False

    def add_imports(self) -> ImportDict:
        """react-markdown itself and the colour mode the code blocks follow."""
        return {
            "react-markdown@10.1.0": ImportVar(tag="ReactMarkdown", is_default=True),
            "$/utils/context": ImportVar(tag="ColorModeContext"),
            "react": ImportVar(tag="useContext"),
        }

    def add_custom_code(self) -> list[str]:
        """The mention plugin, the cache and the component reading it."""
        return [MENTIONS_JS, CACHE_JS]


def markdown_box(source: str | Var[str], me: str | Var[str] = "", **props) -> rx.Component:
    """``source`` rendered as Markdown in a box; ``props`` style and name the box.

    What ``rx.markdown(use_raw=False, use_math=False, use_katex=False)`` builds:
    GitHub-flavoured Markdown and no HTML, math or image unwrapping, plus
    line breaks, emoji and mentions (``me``, the reader, stands out).
    """
    inner = CachedMarkdown.create(
        source,
        component_map=COMPONENT_MAP,
        remark_plugins=[rx.markdown.plugin.gfm, REMARK_BREAKS, REMARK_EMOJI],
        rehype_plugins=[],
    )
    inner.custom_attrs["urlTransform"] = SAFE_URL
    inner.custom_attrs["me"] = me
    return rx.box(inner, style=MARKDOWN_CSS, **props)


def _plain_text(source: Var[str], **props) -> rx.Component:
    return rx.text(
        source,
        white_space="pre-wrap",
        overflow_wrap="anywhere",
        unicode_bidi="plaintext",
        **props,
    )


# A React memo: a message is parsed again only when its text changes, not on
# every state delta that re-renders the message list.
@rx.memo
def message_body(source: rx.Var[str], me: rx.Var[str]) -> rx.Component:
    """A message's text, ``data-testid="message-body"``: Markdown, or plain when nested too deep.

    ``me`` is the reader's username: a mention of it is highlighted more.
    """
    too_deep = Var(
        _js_expr=f"/{TOO_DEEP}/m.test({source})",
        _var_type=bool,
        _var_data=source._get_all_var_data(),
    )
    return rx.cond(
        too_deep,
        _plain_text(source, data_testid="message-body"),
        markdown_box(source, me, data_testid="message-body"),
    )
