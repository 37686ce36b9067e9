// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector("[data-nav-toggle]");
  const sidebar = document.getElementById("sidebar");
  if (toggle && sidebar) {
    toggle.addEventListener("click", () => {
      const open = sidebar.classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }

  // Forms loaded by htmx into #dialog-body open as a modal; Cancel or Esc closes it.
  // Open on afterSettle, not afterSwap: htmx wires hx-post on new content while settling,
  // and a form shown before that would submit as a plain full-page post.
  const dialog = document.getElementById("dialog");
  if (!dialog) return;
  document.body.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.target.id === "dialog-body" && !dialog.open) {
      dialog.showModal();
      const first = dialog.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
    }
  });
  dialog.addEventListener("click", (event) => {
    if (event.target.closest("[data-close-dialog]")) {
      event.preventDefault();
      dialog.close();
    }
  });
  dialog.addEventListener("close", () => { document.getElementById("dialog-body").innerHTML = ""; });
  // A submit disables its button so a double tap sends one request; the form token covers retries.
  document.body.addEventListener("submit", (event) => {
    const button = event.target.querySelector("button[type=submit]");
    if (button) setTimeout(() => { button.disabled = true; }, 0);
  });
  document.body.addEventListener("htmx:afterRequest", (event) => {
    const button = event.target.querySelector && event.target.querySelector("button[type=submit]");
    if (button) button.disabled = false;
  });
});

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});

document.addEventListener("change", (event) => {
  if (event.target.matches("[data-autosubmit]")) event.target.form.submit();
});
