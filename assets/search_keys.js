// Ctrl+K / Cmd+K, or "/" when not typing in a field: focus "Search messages"
// (the results panel's own field while it is open: the modal keeps focus inside).
// (Pressed inside a text field, "/" is just a slash; Ctrl+K works anywhere.)
(() => {
  const typing = (el) =>
    el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  document.addEventListener("keydown", (event) => {
    const box = document.getElementById("search-refine")
      || document.getElementById("search-messages");
    if (!box) return;  // a page without the sidebar (log-in, sign-up)
    const shortcut = (event.key === "k" || event.key === "K") && (event.ctrlKey || event.metaKey);
    const slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey
      && !typing(document.activeElement);
    if (!shortcut && !slash) return;
    event.preventDefault();
    box.focus();
    box.select();
  });
})();
