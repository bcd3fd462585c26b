// Small DOM helpers: elements are built with textContent (never innerHTML), so API data can't inject markup.

/** `h("button", {class: "x", onclick: fn}, "text", child)`: an element with attributes and children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "for") el.htmlFor = v;
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = Boolean(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replace an element's content. */
export function show(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
/** A labelled control: `{label, control}` with the label tied to the control's id. */
export function field(label, control, hint) {
  control.id = control.id || `f${++uid}`;
  const parts = [h("label", { for: control.id }, label), control];
  if (hint) {
    const hid = `${control.id}-hint`;
    control.setAttribute("aria-describedby", hid);
    parts.push(h("div", { id: hid, class: "muted" }, hint));
  }
  return h("div", { class: "field" }, parts);
}

/** A table: `columns` = [{label, get(row) -> text|Node, num?}], with a caption for screen readers. */
export function table(columns, rows, caption) {
  return h(
    "table",
    {},
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label)))),
    h(
      "tbody",
      {},
      rows.length
        ? rows.map((r) => h("tr", {}, columns.map((c) => h("td", { class: c.num ? "num" : null }, c.get(r)))))
        : h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, "nothing yet")),
    ),
  );
}

/**
 * The API's error, as the API gave it: the message, then each detail's field, reason and hint. Where
 * a relation's parse error names a position, `sources` (field -> text) lets it point at the character.
 */
export function errorBox(err, sources = {}) {
  const items = (err.details || []).map((d) => {
    const src = sources[d.field];
    return h(
      "li",
      { class: "problem" },
      h("code", { class: "field" }, d.field || "request"),
      ": ",
      h("span", { class: "reason" }, d.reason || ""),
      d.hint ? [" — ", h("span", { class: "hint" }, d.hint)] : null,
      typeof d.position === "number" && typeof src === "string" ? caretAt(src, d.position) : null,
    );
  });
  return h(
    "div",
    { class: "alert", role: "alert" },
    h("strong", {}, err.status ? `${err.status} ${err.code}: ` : ""),
    redundant(err) ? null : h("span", { class: "message" }, err.message),
    items.length ? h("ul", {}, items) : null,
    err.requestId ? h("div", { class: "muted" }, `request id ${err.requestId}`) : null,
  );
}

/** A 422's message repeats its only detail ("field: reason — hint"): show the detail alone. */
function redundant(err) {
  const d = err.details || [];
  return d.length === 1 && Boolean(d[0].field) && err.message.startsWith(`${d[0].field}: ${d[0].reason}`);
}

/** The source text with a caret under `position`, as a compiler would show it. */
export function caretAt(src, position) {
  return h(
    "pre",
    { class: "position", "aria-label": `position ${position} of: ${src}` },
    src,
    "\n",
    " ".repeat(Math.max(0, position)),
    h("span", { class: "caret" }, "^"),
    ` position ${position}`,
  );
}

export function ok(text) {
  return h("div", { class: "ok", role: "status" }, text);
}

/** Tell screen readers what just happened (the polite live region in index.html). */
export function announce(text) {
  const s = document.getElementById("status");
  if (s) {
    s.textContent = "";
    setTimeout(() => (s.textContent = text), 50);
  }
}

/** A modal yes/no question (native <dialog>: focus is trapped and Escape cancels). */
export function confirmDialog(title, text, confirmLabel = "Confirm") {
  return new Promise((resolve) => {
    const yes = h("button", { type: "submit", value: "yes", class: "danger" }, confirmLabel);
    const dlg = h(
      "dialog",
      { "aria-labelledby": "dlg-title", "aria-describedby": "dlg-text" },
      h(
        "form",
        { method: "dialog" },
        h("h2", { id: "dlg-title" }, title),
        h("p", { id: "dlg-text" }, text),
        h("div", { class: "actions" }, h("button", { type: "submit", value: "no", class: "secondary" }, "Cancel"), yes),
      ),
    );
    dlg.addEventListener("close", () => {
      resolve(dlg.returnValue === "yes");
      dlg.remove();
    });
    document.body.append(dlg);
    dlg.showModal();
    yes.focus();
  });
}

/** Run `fn` while `button` is disabled, so a double click sends one request. */
export async function busy(button, fn) {
  button.disabled = true;
  try {
    return await fn();
  } finally {
    button.disabled = false;
  }
}

export function download(filename, text, type = "text/csv") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export const fmtDate = (s) => (s ? new Date(s).toLocaleString() : "");
/** A number to four decimals; "—" for a missing one. */
export const fmtNum = (x) => (typeof x === "number" ? String(Math.round(x * 1e4) / 1e4) : x ?? "—");
export const fmtCents = (c) => (c === null || c === undefined ? "—" : `$${(Number(c) / 100).toFixed(2)}`);
export const json = (v) => JSON.stringify(v, null, 2);
export const link = (href, text) => h("a", { href }, text);
