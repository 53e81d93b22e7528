// "Upload picture" on /settings: posts the chosen picture to /api/avatar.
//
// A file does not go over the websocket; this script sends it over HTTP
// (endpoints.files.upload_avatar) and then presses the hidden
// [data-avatar-refresh] button, whose Reflex handler re-reads what the server
// stored, so the page shows the picture the server kept. The script owns the
// text of the [data-avatar-status] line (React renders it empty) and nothing
// else. Loaded after hydration: it listens on the document.
(() => {
  const GENERIC = "Your picture could not be uploaded; try again";

  function say(text, isError) {
    const line = document.querySelector("[data-avatar-status]");
    if (!line) return;
    line.textContent = text;
    line.setAttribute("role", isError ? "alert" : "status");
    line.style.color = isError ? "var(--red-11)" : "var(--gray-11)";
  }

  async function upload(input, file) {
    const limit = Number(input.dataset.maxBytes || 0);
    if (limit && file.size > limit) {
      say(`${file.name} is too large; the limit is ${Math.round(limit / 1048576)} MB`, true);
      return;
    }
    say("Uploading your picture…", false);
    let answer = {};
    let ok = false;
    try {
      const response = await fetch(input.dataset.uploadUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/octet-stream" },
        body: file,
      });
      try { answer = await response.json(); } catch (_) { /* a proxy's error page */ }
      ok = response.ok && answer.ok;
    } catch (_) {
      ok = false;
    }
    if (!ok) {
      say(answer.error || GENERIC, true);
      return;
    }
    say("Picture saved.", false);
    const refresh = document.querySelector("[data-avatar-refresh]");
    if (refresh) refresh.click();
  }

  document.addEventListener("click", (e) => {
    const button = e.target instanceof Element && e.target.closest("[data-avatar-button]");
    if (!button) return;
    const input = document.querySelector("[data-avatar-input]");
    if (input) input.click();
  });

  document.addEventListener("change", (e) => {
    const input = e.target;
    if (!(input instanceof HTMLInputElement) || !input.matches("[data-avatar-input]")) return;
    const file = input.files && input.files[0];
    input.value = ""; // the same picture may be chosen again
    if (file) upload(input, file);
  });
})();
