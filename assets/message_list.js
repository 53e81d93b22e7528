// The message list's "Jump to latest (N new)" button.
//
// While the reader is scrolled up, new messages arriving below the view do
// not move it (rx.auto_scroll only follows a list that is at its end); this
// counts them instead and shows #jump-latest with the count in its
// data-count attribute. Clicking it, or scrolling back to the end, clears it.
// Rows are .message-row elements with id "message-<id>"; a row counts as new
// when its id is above every id the list showed so far, so older pages
// (Load older messages) and edits of shown rows never count.
(() => {
  const NEAR_END_PX = 50;
  let list = null; // the #message-list element being watched
  let newest = 0; // the highest message id seen in it
  let unseen = 0;
  // Whether the reader was at the end before the latest rows arrived: read on
  // scroll, since by the time new rows are seen here they already lengthen the list.
  let wasAtEnd = true;

  const idOf = (row) => Number((row.id || "").replace("message-", "")) || 0;
  const atEnd = (el) => el.scrollHeight - el.scrollTop - el.clientHeight <= NEAR_END_PX;
  const button = () => document.getElementById("jump-latest");

  function show() {
    const b = button();
    if (!b) return;
    if (unseen > 0) b.setAttribute("data-count", String(unseen));
    else b.removeAttribute("data-count");
  }

  function highest(root) {
    let max = 0;
    for (const row of root.querySelectorAll(".message-row")) max = Math.max(max, idOf(row));
    return max;
  }

  function watch() {
    const current = document.getElementById("message-list");
    if (current === list) return;
    list = current;
    unseen = 0;
    wasAtEnd = true;
    newest = list ? highest(list) : 0;
    show();
    if (list) {
      const el = list;
      el.addEventListener("scroll", () => {
        wasAtEnd = atEnd(el);
        if (wasAtEnd && unseen) { unseen = 0; show(); }
      });
    }
  }

  function added(mutations) {
    watch();
    if (!list) return;
    let arrived = 0;
    for (const m of mutations) {
      for (const node of m.addedNodes) {
        if (!(node instanceof Element) || !list.contains(node)) continue;
        const rows = node.matches(".message-row") ? [node] : node.querySelectorAll(".message-row");
        for (const row of rows) {
          const id = idOf(row);
          if (id > newest) { newest = id; arrived += 1; }
        }
      }
    }
    // Rows that arrive while the reader is at the end are followed, not counted.
    if (arrived && !wasAtEnd) { unseen += arrived; show(); }
  }

  window.blabberScrollToLatest = () => {
    const el = document.getElementById("message-list");
    if (el) el.scrollTop = el.scrollHeight;
    unseen = 0;
    show();
  };

  document.addEventListener("click", (e) => {
    if (e.target instanceof Element && e.target.closest("#jump-latest")) window.blabberScrollToLatest();
  });
  new MutationObserver(added).observe(document.documentElement, { childList: true, subtree: true });
})();
