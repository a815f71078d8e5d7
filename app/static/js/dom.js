/* Building the page's DOM: one element builder (text never parsed as HTML, links only to
   http(s) or the service itself) and the one way a view shows a failed request. */

export const $ = (id) => document.getElementById(id);

export function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// A link is made only to the service itself or to an http(s) address: a source_url a
// poster stored is never followed as javascript:, data: or any other scheme.
export function safeHref(href) {
  if (typeof href !== "string" || !href) return null;
  try {
    const url = new URL(href, location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? href : null;
  } catch (e) {
    return null;
  }
}

/** An element with attributes and children; text is never parsed as markup, a link goes
    only to http(s) or the service itself. */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") node.textContent = v;
    else if (k === "href") { const safe = safeHref(v); if (safe) node.setAttribute("href", safe); }
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  // children: nodes, or text (numbers too), or lists of them
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

export function option(value, label, selected, disabled) {
  return el("option", { value, selected: selected ? "selected" : null, disabled: disabled ? "disabled" : null, text: label });
}

export function setStatus(msg) { $("status").textContent = msg || ""; $("status").hidden = !msg; }

/** The one way a view shows a request that failed: a message at the top of its box (what
    the box held stays below it), never a blank view. */
export function showError(box, err, t) {
  const msg = t("error", { msg: (err && err.message) || String(err) });
  clearError(box);
  box.prepend(el("p", { class: "error", role: "alert", "data-testid": "view-error", text: msg }));
  box.hidden = false;
  setStatus(msg);
}

export function clearError(box) {
  for (const node of box.querySelectorAll("[data-testid=view-error]")) node.remove();
}
