// memeloop web admin: forms and links marked for it swap one card in place (no page reload);
// keyboard shortcuts on the review board. Without JavaScript every form still works.
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  async function swap(root, url, options) {
    root.classList.add("busy");
    try {
      const response = await fetch(url, Object.assign({credentials: "same-origin"}, options, {
        headers: {"X-Fragment": "1", "X-CSRF-Token": csrf()}
      }));
      const html = await response.text();
      const holder = document.createElement("div");
      holder.innerHTML = html;  // our own server-rendered, autoescaped fragment
      const fresh = holder.firstElementChild;
      if (!fresh) return;
      root.replaceWith(fresh);
      if (fresh.matches("[data-card]")) focusCard(fresh);
    } finally {
      root.classList.remove("busy");
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    const root = form.closest("[data-swap-root]");
    if (!root) return;
    event.preventDefault();
    swap(root, form.action, {method: "POST", body: new FormData(form)});
  });

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-fragment]");
    if (!link) return;
    const root = link.closest("[data-swap-root]");
    if (!root) return;
    event.preventDefault();
    swap(root, link.href, {method: "GET"});
  });

  const cards = () => Array.from(document.querySelectorAll("[data-card]"));
  let current = null;
  function focusCard(card) {
    if (current) current.classList.remove("focused");
    current = card;
    if (!card) return;
    card.classList.add("focused");
    card.focus({preventScroll: true});
    card.scrollIntoView({block: "nearest"});
  }
  function move(step) {
    const all = cards();
    if (!all.length) return;
    const i = all.indexOf(current);
    focusCard(all[Math.max(0, Math.min(all.length - 1, i < 0 ? 0 : i + step))]);
  }

  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest("input, textarea, select");
    if (event.key === "Escape" && typing) { typing.blur(); return; }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "j" || event.key === "n") { move(1); event.preventDefault(); return; }
    if (event.key === "k" || event.key === "p") { move(-1); event.preventDefault(); return; }
    if (!current || !document.body.contains(current)) return;
    if (event.key === "a") {
      const form = current.querySelector('form[data-action="approve"]');
      if (form && form.querySelector("button")) { form.requestSubmit(); event.preventDefault(); }
    } else if (event.key === "r") {
      const input = current.querySelector('form[data-action="reject"] input[name="reason"]');
      if (input) { input.focus(); event.preventDefault(); }
    } else if (event.key === "e") {
      const text = current.querySelector('form[data-action="edit"] textarea');
      if (text) { text.focus(); event.preventDefault(); }
    } else if (event.key === "x") {  // tick the card for a bulk approve / reject
      const box = current.querySelector('input[name="ids"][form="bulk"]');
      if (box) { box.checked = !box.checked; event.preventDefault(); }
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    const first = cards()[0];
    if (first) focusCard(first);
  });

  // Create page: refuse a photo the server would refuse before it is uploaded, and show that a
  // submitted form is working and for how long (the page is replaced by the result when it is done).
  const MAX_UPLOAD = 8 * 1024 * 1024;
  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!input.matches("form[data-create] input[type=file]")) return;
    const file = input.files && input.files[0];
    input.setCustomValidity(file && file.size > MAX_UPLOAD
      ? `${file.name} is ${(file.size / 1048576).toFixed(1)} MB; the limit is 8 MB` : "");
    input.reportValidity();
  });
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches("form[data-create]") || event.defaultPrevented) return;
    const status = form.querySelector(".working");
    const button = form.querySelector("button");
    if (!status) return;
    status.hidden = false;
    form.setAttribute("aria-busy", "true");
    const started = Date.now();
    const elapsed = status.querySelector(".elapsed");
    const tick = () => { elapsed.textContent = `${Math.round((Date.now() - started) / 1000)} s`; };
    tick();
    form.dataset.timer = String(setInterval(tick, 500));
    if (button) setTimeout(() => { button.disabled = true; }, 0);  // after the browser took the form
  });
  window.addEventListener("pageshow", () => {  // back to a page kept in the cache: not working any more
    document.querySelectorAll("form[data-create]").forEach((form) => {
      clearInterval(Number(form.dataset.timer));
      form.removeAttribute("aria-busy");
      const status = form.querySelector(".working");
      if (status) status.hidden = true;
      const button = form.querySelector("button");
      if (button) button.disabled = false;
    });
  });
})();
