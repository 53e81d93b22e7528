// The composer's attachments (blabber/components/composer_files.py): adding
// files, uploading each one, and the chips above the composer.
//
// Files come from the picker ([data-attach-button] opens the
// [data-attach-input] of its form), from a drop onto
// [data-attachment-dropzone], or from a paste into #composer. Each is checked
// here first (size against the tray's data-max-bytes, not empty, at most
// MAX_FILES per message), so a refused file is never sent, then posted on its
// own to POST /api/files?room=<data-room-id> as the raw body: XMLHttpRequest,
// not fetch, because only XHR reports upload progress. The server answers with
// the stored file's id; the hidden attachment_ids input of the tray (sent with
// the form) lists the ids of the finished uploads, in order.
//
// Reflex renders the tray's <ul>, hidden input and error <p> empty and never
// gives them children or a value, so React leaves alone what this script puts
// there. The script holds each tray's files in `trays` (tray element -> its
// items); a tray React unmounts (the room changed: the tray is keyed by the
// URL) is noticed by a MutationObserver, and its uploads are aborted.
//
// A capture listener on document stops the form's submit, before React's
// onSubmit, while a file is still uploading or one failed; otherwise the
// message goes with the finished files (its text may be empty). The files stay
// until the server, after a successful send, calls blabberAttachments.clear().
(() => {
  const MAX_FILES = 10;
  const MB = 1048576;
  const STALL_MS = 120000; // no progress for this long: the upload is given up
  const TOO_MANY = `You can attach up to ${MAX_FILES} files to one message`;
  const WAIT = "Wait for the files to finish uploading";
  const REMOVE_FAILED = "Remove the files that could not be uploaded, then send";

  const trays = new Map(); // tray element -> {items: [...]}
  const dragDepth = new WeakMap(); // dropzone -> dragenter count minus dragleave count

  const part = (tray, selector) => tray.querySelector(selector);
  const listOf = (tray) => part(tray, "[data-attachment-list]");
  const errorOf = (tray) => part(tray, "[data-attachment-error]");
  const idsOf = (tray) => part(tray, "input[name=attachment_ids]");

  // The tray of the form (or drop zone) an element belongs to.
  function trayNear(el) {
    const scope = (el && (el.form || el.closest("form, [data-attachment-dropzone]"))) || null;
    return scope && scope.querySelector("[data-attachment-tray]");
  }

  function stateOf(tray) {
    let state = trays.get(tray);
    if (!state) {
      state = { items: [] };
      trays.set(tray, state);
    }
    return state;
  }

  // One decimal, rounded up: a file just over the limit never reads as at it.
  const sizeMb = (bytes) => (Math.ceil((bytes / MB) * 10) / 10).toFixed(1);
  const limitMb = (bytes) => {
    const mb = bytes / MB;
    return Number.isInteger(mb) ? String(mb) : mb.toFixed(1);
  };

  function humanSize(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < MB) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
    return `${(bytes / MB).toFixed(1)} MB`;
  }

  function setError(tray, text) {
    const line = errorOf(tray);
    if (line) line.textContent = text;
  }

  function writeIds(tray, state) {
    const input = idsOf(tray);
    if (!input) return;
    input.value = state.items.filter((i) => i.status === "done").map((i) => i.id).join(",");
  }

  // The submit guard's sentence goes once what it asked for is done.
  function settleGuard(tray, state) {
    const line = errorOf(tray);
    if (!line) return;
    const busy = state.items.some((i) => i.status === "uploading");
    const failed = state.items.some((i) => i.status === "failed");
    if ((line.textContent === WAIT && !busy) || (line.textContent === REMOVE_FAILED && !failed)) {
      line.textContent = "";
    }
  }

  function el(tag, props, text) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function chip(tray, item) {
    const li = el("li");
    li.dataset.status = "uploading";
    if (item.file.type.startsWith("image/")) {
      item.url = URL.createObjectURL(item.file);
      li.append(el("img", { src: item.url, alt: "", width: 24, height: 24 }));
    }
    item.nameEl = el("span", {}, item.name);
    item.nameEl.dataset.part = "name";
    item.sizeEl = el("span", {}, humanSize(item.file.size));
    item.sizeEl.dataset.part = "size";
    item.progress = el("progress", { max: 100, value: 0 });
    item.progress.setAttribute("aria-label", `Uploading ${item.name}`);
    item.removeButton = el("button", { type: "button" }, "×");
    item.removeButton.addEventListener("click", () => remove(tray, item, true));
    li.append(item.nameEl, item.sizeEl, item.progress, item.removeButton);
    item.li = li;
    label(item);
    return li;
  }

  function label(item) {
    item.removeButton.setAttribute("aria-label", `Remove ${item.name}`);
    item.removeButton.title = `Remove ${item.name}`;
    item.nameEl.textContent = item.name;
  }

  function finish(item) {
    clearTimeout(item.timer);
    item.xhr = null;
    if (item.progress) item.progress.remove();
    item.progress = null;
  }

  function fail(tray, item, sentence) {
    if (item.status === "removed") return;
    finish(item);
    item.status = "failed";
    item.li.dataset.status = "failed";
    item.nameEl.remove();
    item.sizeEl.remove();
    const problem = el("span", {}, sentence);
    problem.setAttribute("role", "alert");
    item.removeButton.before(problem);
    const state = stateOf(tray);
    writeIds(tray, state);
    settleGuard(tray, state);
  }

  function upload(tray, item) {
    const xhr = new XMLHttpRequest();
    const state = stateOf(tray);
    const name = item.name;
    const again = `${name} could not be uploaded; try again`;
    item.xhr = xhr;
    const watch = () => {
      clearTimeout(item.timer);
      item.timer = setTimeout(() => {
        item.stalled = true;
        xhr.abort();
      }, STALL_MS);
    };
    xhr.open("POST", `/api/files?room=${encodeURIComponent(tray.dataset.roomId)}`);
    xhr.withCredentials = true; // same origin: the session cookie goes along
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-File-Name", encodeURIComponent(item.file.name));
    xhr.upload.addEventListener("progress", (e) => {
      watch();
      if (e.lengthComputable && item.progress) {
        item.progress.value = Math.round((e.loaded / e.total) * 100);
      }
    });
    xhr.addEventListener("readystatechange", watch);
    xhr.addEventListener("load", () => {
      let answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (_) { /* e.g. a proxy's error page */ }
      const file = answer && answer.ok && answer.file;
      if (xhr.status >= 200 && xhr.status < 300 && file && file.id != null) {
        if (item.status === "removed") return;
        finish(item);
        item.status = "done";
        item.id = String(file.id);
        item.li.dataset.status = "done";
        if (file.name) {
          item.name = String(file.name);
          label(item);
        }
        writeIds(tray, state);
        settleGuard(tray, state);
      } else if (answer && typeof answer.error === "string" && answer.error) {
        fail(tray, item, `${name} could not be uploaded: ${answer.error}`);
      } else {
        fail(tray, item, again);
      }
    });
    xhr.addEventListener("error", () => {
      fail(tray, item, `${name} could not be uploaded; check your connection and try again`);
    });
    xhr.addEventListener("abort", () => {
      // Remove aborts too, after marking the item removed: then fail() does nothing.
      fail(tray, item, item.stalled ? `${name} could not be uploaded: it stalled; try again` : again);
    });
    watch();
    xhr.send(item.file);
  }

  function refusal(tray, file, count) {
    const max = Number(tray.dataset.maxBytes) || 0;
    if (count >= MAX_FILES) return TOO_MANY;
    if (!tray.dataset.roomId || tray.dataset.roomId === "0") return "Open a room first";
    if (file.isFolder) return `${file.name} is a folder; attach the files in it`;
    if (file.size === 0) return `${file.name} is empty`;
    if (max && file.size > max) {
      return `${file.name} is too large (${sizeMb(file.size)} MB; the limit is ${limitMb(max)} MB)`;
    }
    return "";
  }

  function add(tray, files) {
    if (!tray || !files.length) return;
    const state = stateOf(tray);
    const list = listOf(tray);
    const refused = [];
    for (const file of files) {
      const why = refusal(tray, file, state.items.length);
      if (why) {
        if (!refused.includes(why)) refused.push(why);
        if (why === TOO_MANY) break;
        continue;
      }
      const item = { file, name: file.name, status: "uploading", id: null, xhr: null };
      state.items.push(item);
      if (list) list.append(chip(tray, item));
      upload(tray, item);
    }
    setError(tray, refused.join("\n"));
  }

  function drop(item) {
    if (item.xhr) item.xhr.abort();
    finish(item);
    if (item.url) URL.revokeObjectURL(item.url);
    if (item.li) item.li.remove();
  }

  function remove(tray, item, moveFocus) {
    const state = stateOf(tray);
    const at = state.items.indexOf(item);
    if (at < 0) return;
    item.status = "removed";
    state.items.splice(at, 1);
    drop(item);
    writeIds(tray, state);
    settleGuard(tray, state);
    if (moveFocus) {
      // Focus goes where the next Remove (or the message) is, not to <body>.
      const next = state.items[at] || state.items[at - 1];
      const form = tray.closest("form");
      const target = next ? next.removeButton : form && form.querySelector("#composer");
      if (target) target.focus();
    }
  }

  function empty(tray, ids) {
    const state = trays.get(tray);
    if (state) {
      for (const item of state.items.slice()) {
        if (!ids || (item.status === "done" && ids.includes(item.id))) remove(tray, item, false);
      }
    }
    if (!ids) {
      if (listOf(tray)) listOf(tray).replaceChildren();
      if (idsOf(tray)) idsOf(tray).value = "";
      setError(tray, "");
    }
  }

  // A tray React unmounted: nothing will send its files.
  new MutationObserver(() => {
    for (const [tray, state] of trays) {
      if (tray.isConnected) continue;
      trays.delete(tray);
      state.items.forEach((item) => { item.status = "removed"; drop(item); });
    }
  }).observe(document.documentElement, { childList: true, subtree: true });

  // --- where files come from ---

  document.addEventListener("click", (e) => {
    const button = e.target.closest && e.target.closest("[data-attach-button]");
    if (!button) return;
    const scope = button.form || button.closest("form, [data-attachment-dropzone]") || document;
    const input = scope.querySelector("[data-attach-input]");
    if (input) input.click();
  }, true);

  document.addEventListener("change", (e) => {
    const input = e.target;
    if (!(input instanceof HTMLInputElement) || !input.matches("[data-attach-input]")) return;
    const files = Array.from(input.files || []);
    input.value = ""; // the same file can be picked again
    add(trayNear(input), files);
  }, true);

  const carriesFiles = (e) => Boolean(e.dataTransfer) && Array.from(e.dataTransfer.types).includes("Files");
  const zoneOf = (e) => (e.target.closest ? e.target.closest("[data-attachment-dropzone]") : null);

  function setDepth(zone, depth) {
    dragDepth.set(zone, Math.max(0, depth));
    if (depth > 0) zone.dataset.dragging = "true";
    else delete zone.dataset.dragging;
  }

  document.addEventListener("dragenter", (e) => {
    const zone = zoneOf(e);
    if (!zone || !carriesFiles(e)) return;
    e.preventDefault();
    setDepth(zone, (dragDepth.get(zone) || 0) + 1);
  }, true);

  // Files dragged anywhere are caught: a file dropped outside a drop zone
  // would otherwise replace the page (and its draft) with the file.
  document.addEventListener("dragover", (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = zoneOf(e) ? "copy" : "none";
  }, true);

  document.addEventListener("dragleave", (e) => {
    const zone = zoneOf(e);
    if (!zone || !carriesFiles(e)) return;
    setDepth(zone, (dragDepth.get(zone) || 0) - 1);
  }, true);

  document.addEventListener("drop", (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    document.querySelectorAll("[data-attachment-dropzone][data-dragging]").forEach((z) => setDepth(z, 0));
    const zone = zoneOf(e);
    if (!zone) return;
    const items = Array.from(e.dataTransfer.items || []);
    const files = Array.from(e.dataTransfer.files).map((file, i) => {
      const entry = items[i] && items[i].webkitGetAsEntry ? items[i].webkitGetAsEntry() : null;
      if (entry && entry.isDirectory) return { name: file.name, size: file.size, isFolder: true };
      return file;
    });
    add(zone.querySelector("[data-attachment-tray]"), files);
  }, true);

  function stamp(date) {
    const two = (n) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}-`
      + `${two(date.getHours())}${two(date.getMinutes())}${two(date.getSeconds())}`;
  }

  // A screenshot comes as "image.png" (or nameless): it gets a name worth keeping.
  function named(file, index, count) {
    if (file.name && !/^image\.\w+$/i.test(file.name)) return file;
    const kind = file.type.startsWith("image/") ? "image" : "file";
    const ext = (file.type.split("/")[1] || "bin").replace("jpeg", "jpg").replace(/\+.*$/, "");
    const suffix = count > 1 ? `-${index + 1}` : "";
    return new File([file], `pasted-${kind}-${stamp(new Date())}${suffix}.${ext}`, { type: file.type });
  }

  document.addEventListener("paste", (e) => {
    const box = e.target;
    if (!(box instanceof HTMLElement) || box.id !== "composer" || !e.clipboardData) return;
    const types = Array.from(e.clipboardData.types);
    // Text copied from a document (Word, a spreadsheet) brings a picture of
    // itself along: that paste is the text, not a file.
    if (types.includes("text/plain") && types.includes("text/html")) return;
    const files = Array.from(e.clipboardData.items || [])
      .filter((item) => item.kind === "file")
      .map((item) => item.getAsFile())
      .filter(Boolean);
    if (!files.length) return;
    if (!types.includes("text/plain")) e.preventDefault(); // nothing else to paste
    add(trayNear(box), files.map((file, i) => named(file, i, files.length)));
  }, true);

  // --- sending ---

  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement)) return;
    const tray = form.querySelector("[data-attachment-tray]");
    const state = tray && trays.get(tray);
    if (!state) return;
    let why = "";
    if (state.items.some((i) => i.status === "uploading")) why = WAIT;
    else if (state.items.some((i) => i.status === "failed")) why = REMOVE_FAILED;
    if (!why) return;
    e.preventDefault();
    e.stopImmediatePropagation(); // React's onSubmit (the send) must not run
    setError(tray, why);
  }, true);

  window.blabberAttachments = {
    // Empties every tray; given ids (the ones a message took), removes only those files.
    clear(ids) {
      const only = Array.isArray(ids) ? ids.map(String) : null;
      document.querySelectorAll("[data-attachment-tray]").forEach((tray) => empty(tray, only));
    },
    // Every file in a tray on the page: {name, size, status, id}; status is
    // "uploading", "done" or "failed".
    pending() {
      const all = [];
      for (const [tray, state] of trays) {
        if (!tray.isConnected) continue;
        state.items.forEach((i) => all.push({ name: i.name, size: i.file.size, status: i.status, id: i.id }));
      }
      return all;
    },
  };
})();
