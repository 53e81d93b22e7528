// The composer's @ suggestions (blabber/components/mention_suggestions.py).
//
// On every edit or caret move in #composer this finds the "@letters" that
// end at the caret (the server's rule: an @ that does not continue a word or
// an address) and, when that changed, sends the letters to the server
// (MentionSuggestionsState.suggest_mentions; null when there are none),
// which renders #mention-list. While the list shows, Up/Down choose an
// option, Enter or Tab inserts "@username " in place of what was typed,
// Escape closes the list; a click on an option inserts it too. Keys are
// caught on window in the capture phase, before React's Enter-to-send.
(() => {
  const NAME_AT_CARET = /(?:^|[^\p{L}\p{N}_.@-])@([A-Za-z0-9_.\-]{0,40})$/u;
  let send = null; // set by connect(): sends a prefix (or null) to the server
  let pending; // a prefix found before connect(), sent once connected
  let lastSent = null;
  let active = 0;

  const composer = () => document.getElementById("composer");
  const list = () => document.getElementById("mention-list");
  const options = () => Array.from(document.querySelectorAll("#mention-list [role=option]"));

  function prefixAtCaret(box) {
    if (!box || box.selectionStart !== box.selectionEnd) return null;
    const match = box.value.slice(0, box.selectionStart).match(NAME_AT_CARET);
    return match ? match[1] : null;
  }

  function tell(prefix) {
    if (prefix === lastSent) return;
    if (!send) {
      pending = prefix;
      return;
    }
    lastSent = prefix;
    send(prefix);
  }

  function showActive() {
    const all = options();
    const box = composer();
    if (active >= all.length) active = 0;
    all.forEach((el, i) => el.setAttribute("aria-selected", i === active ? "true" : "false"));
    if (!box) return;
    if (all.length) {
      box.setAttribute("aria-activedescendant", all[active].id);
      box.setAttribute("aria-controls", "mention-list");
    } else {
      box.removeAttribute("aria-activedescendant");
      box.removeAttribute("aria-controls");
    }
  }

  function insert(username) {
    const box = composer();
    if (!box || !username) return;
    const before = box.value.slice(0, box.selectionStart);
    const match = before.match(NAME_AT_CARET);
    if (!match) return;
    const start = before.length - match[1].length; // just after the @
    const after = box.value.slice(box.selectionStart);
    const spacer = after.startsWith(" ") ? "" : " ";
    box.value = box.value.slice(0, start) + username + spacer + after;
    const caret = start + username.length + 1;
    box.setSelectionRange(caret, caret);
    box.focus();
    tell(null);
  }

  function onKey(e) {
    if (e.target !== composer() || !list()) return;
    const all = options();
    if (!all.length) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      active = (active + (e.key === "ArrowDown" ? 1 : all.length - 1)) % all.length;
      showActive();
    } else if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") {
      insert(all[active].dataset.username);
    } else if (e.key === "Escape") {
      tell(null);
    } else {
      return;
    }
    e.preventDefault();
    e.stopImmediatePropagation();
  }

  function onEdit(e) {
    if (e.target === composer()) tell(prefixAtCaret(e.target));
  }

  window.addEventListener("keydown", onKey, true);
  document.addEventListener("input", onEdit, true);
  document.addEventListener("click", onEdit, true); // the caret moved
  document.addEventListener("keyup", (e) => {
    if (e.key === "ArrowLeft" || e.key === "ArrowRight" || e.key === "Home" || e.key === "End") {
      onEdit(e);
    }
  }, true);
  document.addEventListener("focusout", (e) => {
    if (e.target === composer()) tell(null);
  }, true);
  // mousedown, not click: the composer keeps its focus and caret.
  document.addEventListener("mousedown", (e) => {
    const option = e.target.closest && e.target.closest("#mention-list [role=option]");
    if (!option) return;
    e.preventDefault();
    insert(option.dataset.username);
  }, true);
  // A new list (other options, or none): the first option is active again.
  let shown = "";
  new MutationObserver(() => {
    const now = options().map((el) => el.dataset.username).join(" ");
    if (now === shown) return; // some other part of the page changed
    shown = now;
    active = 0;
    showActive();
  }).observe(document.body, { childList: true, subtree: true });

  window.blabberMentions = {
    connect(fn) {
      send = fn;
      if (pending !== undefined) {
        const prefix = pending;
        pending = undefined;
        tell(prefix);
      }
    },
  };
})();
