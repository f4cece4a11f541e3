// memeloop calendar: drag a scheduled post to another slot. The drop posts the post page's own
// reschedule form (the account's time zone; the server checks the account's rules and says why it
// refuses), then the calendar is re-read from the server. Without JavaScript each post links to
// its page, whose form moves it, and each empty slot links to a page that fills it.
(function () {
  "use strict";
  const region = () => document.querySelector(".cal-scroll");
  const status = () => document.getElementById("cal-status");
  let dragged = null;

  function say(text, ok) {
    const box = status();
    if (!box) return;
    box.hidden = false;
    box.textContent = text;
    box.className = "message " + (ok ? "ok" : "error");
  }

  async function refresh() {
    const response = await fetch(location.href, {credentials: "same-origin"});
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html").querySelector(".cal-scroll");
    const old = region();
    if (fresh && old) old.replaceWith(fresh);
  }

  async function move(post, cell) {
    const table = cell.closest("[data-calendar]");
    const at = cell.dataset.slot || `${cell.dataset.day}T${post.dataset.time}`;
    const body = new FormData();
    body.set("at", at);
    body.set("tz", table.dataset.tz);
    const token = document.querySelector('meta[name="csrf-token"]').content;
    post.classList.add("dragging");
    try {
      const response = await fetch(`/posts/${post.dataset.post}/reschedule`, {
        method: "POST", body, credentials: "same-origin", headers: {"X-Fragment": "1", "X-CSRF-Token": token}});
      const holder = document.createElement("div");
      holder.innerHTML = await response.text();  // our own server-rendered, autoescaped fragment
      say(holder.textContent.trim() || `the server answered ${response.status}`, response.ok);
      if (response.ok) await refresh();
    } catch (error) {
      say(`the post was not moved: ${error}`, false);
    } finally {
      post.classList.remove("dragging");
    }
  }

  document.addEventListener("dragstart", (event) => {
    const post = event.target.closest && event.target.closest("[data-calendar] [data-post][draggable=true]");
    if (!post) return;
    dragged = post;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", post.dataset.post);
  });
  document.addEventListener("dragend", () => {
    dragged = null;
    document.querySelectorAll("[data-drop].over").forEach((c) => c.classList.remove("over"));
  });
  document.addEventListener("dragover", (event) => {
    const cell = dragged && event.target.closest && event.target.closest("[data-calendar] [data-drop]");
    if (!cell) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll("[data-drop].over").forEach((c) => { if (c !== cell) c.classList.remove("over"); });
    cell.classList.add("over");
  });
  document.addEventListener("drop", (event) => {
    const cell = dragged && event.target.closest && event.target.closest("[data-calendar] [data-drop]");
    if (!cell) return;
    event.preventDefault();
    cell.classList.remove("over");
    const post = dragged;
    dragged = null;
    if (post.closest("[data-drop]") === cell) return;  // dropped where it was
    move(post, cell);
  });
})();
