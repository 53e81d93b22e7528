// Ctrl+K / Cmd+K, or "/" when not typing in a field: focus "Search messages"
// (the results panel's own field while it is open: the modal keeps focus inside).
// (Pressed inside a text field, "/" is just a slash; Ctrl+K works anywhere.)
(() => {
  const typing = (el) =>
    el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  document.addEventListener("keydown", (event) => {
    // The panel's own field only while the panel is open (not while it closes).
    const box = document.querySelector('[role="dialog"][data-state="open"] #search-refine')
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

// "More results" loads by itself when it scrolls into view in the results
// panel (the button stays, for keyboards). The button starts the watch when
// it mounts (components/search.py), so nothing observes the page otherwise:
// a chat's own DOM changes never run this code.
(() => {
  if (!("IntersectionObserver" in window)) {
    window.blabberSearch = { watchMore() {} };
    return;
  }
  // Watch again once the page it asked for has loaded (the button is
  // enabled again); observe() reports the button's visibility at once.
  const again = (button) => {
    if (!button.isConnected) return;
    if (button.disabled) { setTimeout(() => again(button), 200); return; }
    onSight.observe(button);
  };
  const onSight = new IntersectionObserver((entries) => {
    for (const { target: button, isIntersecting } of entries) {
      if (!isIntersecting) continue;
      onSight.unobserve(button);
      if (!button.disabled && button.isConnected) button.click();
      setTimeout(() => again(button), 200);
    }
  });
  window.blabberSearch = { watchMore: (button) => button && onSight.observe(button) };
})();
