// The log-in and sign-up forms, and "Log out": the session cookie's only writers in the page.
//
// The session token is an HttpOnly cookie (blabber/session_cookie.py) that
// only an HTTP response can set or clear, so these forms post to the session
// endpoints (blabber/endpoints/session.py) instead of going over the
// websocket, and the page then loads afresh: its new websocket carries the
// new cookie, and the server reads the identity from that handshake. The
// password never enters Reflex state.
//
// A form opts in with data-session-endpoint (the URL it posts to). The
// capture listener below handles its submit once this script has run; the
// form's own React handler covers the moment before (Reflex adds this script
// to the page only after hydration): it waits for blabberSession.submit. The
// script owns three things in it and nothing else: the text of its
// [data-session-error] element (role="alert"), the disabled/aria-busy of its
// submit button, and the page load after success. Reflex renders those
// elements statically, so React never overwrites what this script sets.
(() => {
  // Sessions from before the cookie kept their token here; it is never read
  // again, and must not linger where any script could read it.
  try { localStorage.removeItem("blabber_session"); } catch (_) { /* storage disabled */ }

  const UNREACHABLE = "Blabber cannot be reached right now; check your connection and try again";

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
    let answer = {};
    try { answer = await response.json(); } catch (_) { /* e.g. a proxy's error page */ }
    if (!response.ok || !answer.ok) {
      throw new Error(answer.error || UNREACHABLE);
    }
    return answer;
  }

  function setBusy(form, busy) {
    const button = form.querySelector("button[type=submit]");
    if (!button) return;
    button.disabled = busy;
    button.setAttribute("aria-busy", busy ? "true" : "false");
  }

  async function submit(form) {
    const error = form.querySelector("[data-session-error]");
    const fields = new FormData(form);
    const body = {
      username: String(fields.get("username") || ""),
      password: String(fields.get("password") || ""),
      // An invite link is /signup?invite=<code>; the server checks the code.
      invite: new URLSearchParams(window.location.search).get("invite") || "",
    };
    if (error) error.textContent = "";
    setBusy(form, true);
    try {
      await post(form.dataset.sessionEndpoint, body);
    } catch (err) {
      setBusy(form, false);
      if (error) error.textContent = err.message;
      return;
    }
    window.location.assign(form.dataset.sessionNext || "/");
  }

  // Capture phase on the document: runs before React's own listeners, and
  // the form never submits the classic way (which would put the password in a URL).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.sessionEndpoint) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    submit(form);
  }, true);

  // "Log out" (resolves false, and stays, when the server could not be
  // reached: the page says so) and, with {ended: true}, the end of a session
  // the server already ended ("Log out everywhere", "Delete account"), which
  // loads the log-in page whatever happens, as the old cookie is dead anyway.
  // Either way the log-in page loads afresh, so its websocket carries no session.
  async function logOut(options) {
    const ended = Boolean(options && options.ended);
    try {
      await post("/api/session/logout");
    } catch (_) {
      if (!ended) return false;
    }
    window.location.assign("/login");
    return true;
  }

  window.blabberSession = { logOut, submit };
})();
