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
// panel (the button stays, for keyboards and in case the observer misses).
(() => {
  if (!("IntersectionObserver" in window)) return;
  const onSight = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const button = entry.target;
      if (entry.isIntersecting && !button.disabled) {
        onSight.unobserve(button);  // observed again once the next page has rendered
        button.click();
      }
    }
  });
  const watch = () => {
    const button = document.getElementById("search-more");
    if (button && !button.disabled && button.dataset.watched !== "1") {
      button.dataset.watched = "1";
      onSight.observe(button);
    } else if (button && button.disabled) {
      button.dataset.watched = "";  // loading: watch it again when it is enabled
    }
  };
  new MutationObserver(watch).observe(document.documentElement, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["disabled"],
  });
})();
