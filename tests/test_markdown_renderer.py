"""The message Markdown renderer's pure parts (blabber.components.markdown), no browser.

The JavaScript pieces (the URL guard, the code-language lookup and the parse
cache) run in Node.js exactly as Reflex writes them into the page; the
nesting guard is a regular expression written to mean the same in Python and
JavaScript, and is checked in both. tests/e2e/test_formatting.py and
tests/e2e/test_xss.py check the same behaviour in Chromium.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time

import pytest
from reflex_base.vars.base import Var

from blabber.components import markdown
from blabber.components.mention_markdown import MENTIONS_JS

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js not installed")


def run_js(script: str):
    """Run ``script`` in Node.js; it prints one JSON value, returned here."""
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


URLS_KEPT = [
    "https://example.com/a?b=c#d",
    "http://example.com",
    "HTTPS://EXAMPLE.COM",
    "  https://example.com  ",
    "mailto:someone@example.com",
    "MailTo:someone@example.com",
]
URLS_DROPPED = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "  javascript:alert(1)",
    "\tjavascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://example.com",
    "/relative/path",
    "relative",
    "#fragment",
    "//example.com/protocol-relative",
    "https:example.com",
    "http:/example.com",
    "",
    "\u0000javascript:alert(1)",
]


@needs_node
def test_safe_url_keeps_only_absolute_http_and_mailto_hrefs():
    cases = [[url, "href"] for url in URLS_KEPT + URLS_DROPPED]
    cases += [["https://example.com/pixel.png", "src"], ["https://example.com", "cite"]]
    got = run_js(
        f"const t = {markdown.SAFE_URL!s};"
        f"console.log(JSON.stringify({json.dumps(cases)}.map(([u, k]) => t(u, k))))"
    )
    assert got[: len(URLS_KEPT)] == [url.strip() for url in URLS_KEPT]
    # null, not "": react-markdown then leaves the attribute out altogether.
    assert got[len(URLS_KEPT) :] == [None] * (len(URLS_DROPPED) + 2)


@needs_node
def test_code_language_highlights_known_names_and_nothing_else():
    names = ["python", "Python", "py", "JS", "ts", "c++", "html", "yml", "dockerfile"]
    hostile = ["constructor", "__proto__", "toString", "hasOwnProperty", "shellSession", ""]
    unknown = ["brainfuck", "python; alert(1)", "<script>"]
    expr = markdown.code_language(Var(_js_expr="name"))
    got = run_js(
        f"console.log(JSON.stringify({json.dumps(names + hostile + unknown)}"
        f".map((name) => {expr!s})))"
    )
    assert got[: len(names)] == [
        "python",
        "python",
        "python",
        "javascript",
        "typescript",
        "cpp",
        "markup",
        "yaml",
        "docker",
    ]
    assert got[len(names) :] == ["text"] * (len(hostile) + len(unknown))


def test_every_alias_names_a_grammar_that_registers_under_its_own_name():
    grammars = set(markdown.CODE_LANGUAGES.values())
    assert all(markdown.CODE_LANGUAGES[g] == g for g in grammars)
    assert all(name == name.lower() for name in markdown.CODE_LANGUAGES)
    assert not set(markdown.CODE_LANGUAGES) & {"constructor", "__proto__", "tostring", "text"}


NESTED_TOO_DEEP = [
    "> " * 9 + "x",
    ">" * 9,
    "- " * 9 + "x",
    "1. " * 9 + "x",
    "1) " * 9 + "x",
    "> - " * 5,
    "   > > > > > > > > >",
    "fine\n" + "* " * 9 + "x\nfine",
    "\t-\t-\t-\t-\t-\t-\t-\t-\t-\tx",
    "> " * 1990,
]
NESTED_FINE = [
    "> " * 8 + "x",
    "- " * 8 + "x",
    "> - **bold *italic* ~~strike~~** [link](https://example.com) :tada:",
    "x " + "> " * 20,  # not at the start of a line: not a container
    "--------------------",  # a thematic break, not nested lists
    "-1-2-3-4-5-6-7-8-9-10",
    "1234567890. " * 9,  # 10 digits is not a list marker
    "\n".join("  " * i + "- item" for i in range(30)),  # indentation: bounded by length
]


@pytest.mark.parametrize("text", NESTED_TOO_DEEP)
def test_too_deep_spots_lines_that_open_more_than_max_nesting_containers(text):
    assert re.search(markdown.TOO_DEEP, text, re.MULTILINE)


@pytest.mark.parametrize("text", NESTED_FINE)
def test_too_deep_leaves_ordinary_markup_alone(text):
    assert not re.search(markdown.TOO_DEEP, text, re.MULTILINE)


@needs_node
def test_too_deep_means_the_same_in_javascript():
    texts = NESTED_TOO_DEEP + NESTED_FINE
    got = run_js(
        f"console.log(JSON.stringify({json.dumps(texts)}"
        f".map((s) => /{markdown.TOO_DEEP}/m.test(s))))"
    )
    assert got == [True] * len(NESTED_TOO_DEEP) + [False] * len(NESTED_FINE)


@pytest.mark.parametrize(
    "text",
    [
        "> " * 8 + " " * 3990,
        ("> " * 8 + "\n") * 230,
        "1" * 4000,
        ("123456789" + " " * 3) * 330,
        ("- " * 8 + "\t" * 10 + "\n") * 140,
    ],
)
def test_too_deep_runs_in_linear_time_on_near_misses(text):
    start = time.perf_counter()
    for _ in range(20):
        re.search(markdown.TOO_DEEP, text, re.MULTILINE)
    assert time.perf_counter() - start < 1.0  # 20 runs; backtracking would take far longer


@needs_node
def test_the_parse_cache_renders_each_text_once_and_stays_bounded():
    # The cache's own code with React stubbed: how often it renders, what it keeps.
    script = (
        "let mode = 'light', calls = 0;"
        "const ColorModeContext = null;"
        "const useContext = () => ({resolvedColorMode: mode});"
        "const ReactMarkdown = (props) => { calls += 1; return {rendered: props.children}; };"
        f"{MENTIONS_JS}{markdown.CACHE_JS}"
        "const a1 = CachedMarkdown({children: 'a'}), a2 = CachedMarkdown({children: 'a'});"
        "const same = a1 === a2 && calls === 1;"
        "mode = 'dark'; CachedMarkdown({children: 'a'}); const perMode = calls === 2;"
        "for (let i = 0; i < 2000; i++) CachedMarkdown({children: 'm' + i});"
        "const byCount = renderedMarkdown.size;"
        "for (let i = 0; i < 300; i++) CachedMarkdown({children: String(i).padEnd(4000, 'x')});"
        "console.log(JSON.stringify({same, perMode, byCount,"
        " bySize: renderedMarkdown.size, chars: renderedMarkdownChars}));"
    )
    got = run_js(script)
    assert got["same"] and got["perMode"]
    assert got["byCount"] == 500
    assert got["chars"] <= 400_000 and got["bySize"] < 101


@needs_node
def test_mentions_become_spans_of_text_and_mine_stands_out():
    """The remark plugin on a parsed tree: text nodes only, the server's rule, no HTML."""
    script = (
        f"{MENTIONS_JS}"
        "const tree = {type: 'root', children: [{type: 'paragraph', children: ["
        " {type: 'text', value: 'hi @bob, @Alice. and @room; mail a@b.co <b>@zed</b>'},"
        " {type: 'inlineCode', value: '@bob'},"
        " {type: 'link', url: 'mailto:a@bob.io', children: [{type: 'text', value: 'x @bob'}]}]}]};"
        "remarkMentions({me: 'alice'})(tree);"
        "const out = tree.children[0].children.filter(n => n.type === 'mention')"
        " .map(n => [n.children[0].value, n.data.hProperties.className.join(' ')]);"
        "console.log(JSON.stringify(out));"
    )
    assert run_js(script) == [
        ["@bob", "mention"],
        ["@Alice", "mention mention-me"],
        ["@room", "mention mention-me"],
        ["@zed", "mention"],  # the <b> around it is text here, never HTML
    ]
