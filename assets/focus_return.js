// Closing a dialog puts the keyboard focus back on the control that opened it.
//
// The app's dialogs are opened from page state (`open=` with `on_open_change`), not through a
// Radix Trigger, and Radix returns focus only to its Trigger: without this, Escape or Cancel
// leave the focus on the page body and a keyboard user starts again from the top.
// While no dialog is open we remember the last focused control; when the last dialog closes and
// the focus fell to the body, it goes back there (or to the control that replaced it, found by
// the same id or accessible name, when the page re-rendered it).
(function () {
  if (window.__groupsmsFocusReturn) return;
  window.__groupsmsFocusReturn = true;

  var DIALOG = '[role="dialog"], [role="alertdialog"]';
  var opener = null;
  var openerKey = null;
  var dialogOpen = false;

  function keyOf(el) {
    if (!el || !el.tagName) return null;
    return {
      tag: el.tagName,
      id: el.id || "",
      label: el.getAttribute("aria-label") || "",
      text: (el.textContent || "").trim().slice(0, 80),
    };
  }

  function findByKey(key) {
    if (!key) return null;
    if (key.id) {
      var byId = document.getElementById(key.id);
      if (byId) return byId;
    }
    var candidates = document.getElementsByTagName(key.tag);
    for (var i = 0; i < candidates.length; i++) {
      var c = candidates[i];
      if (c.closest(DIALOG)) continue;
      var label = c.getAttribute("aria-label") || "";
      var text = (c.textContent || "").trim().slice(0, 80);
      if (label === key.label && text === key.text) return c;
    }
    return null;
  }

  document.addEventListener(
    "focusin",
    function (event) {
      var target = event.target;
      if (!(target instanceof Element) || target.closest(DIALOG)) return;
      if (document.querySelector(DIALOG)) return; // something focused behind an open dialog
      if (target.closest('[role="menu"]')) {
        // A dialog opened from a menu item goes back to the button that opened the menu.
        var trigger = document.querySelector('[aria-haspopup="menu"][aria-expanded="true"]');
        if (!trigger) return;
        target = trigger;
      }
      opener = target;
      openerKey = keyOf(target);
    },
    true
  );

  function focusFellToBody() {
    var active = document.activeElement;
    return !active || active === document.body || active === document.documentElement;
  }

  function restore(attempt) {
    if (document.querySelector(DIALOG)) return; // another dialog opened meanwhile
    if (!focusFellToBody()) return; // focus went somewhere on purpose
    var target = opener && opener.isConnected ? opener : findByKey(openerKey);
    if (target && typeof target.focus === "function") {
      target.focus({ preventScroll: true });
      return;
    }
    // The page may still be re-rendering the opener: look again shortly.
    if (attempt < 10) setTimeout(function () { restore(attempt + 1); }, 30);
  }

  new MutationObserver(function () {
    var isOpen = !!document.querySelector(DIALOG);
    if (dialogOpen && !isOpen) {
      setTimeout(function () { restore(0); }, 0);
    }
    dialogOpen = isOpen;
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
