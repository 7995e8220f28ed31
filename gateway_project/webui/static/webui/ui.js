// What every view shares: finding elements, the notice line, and how money and time read.

export const $ = (selector, root = document) => root.querySelector(selector);

export const TO_WALLET = { href: "#wallet", text: "Deposit in the Wallet" };

// `action`, a link that resolves the message ({href, text}), follows the message.
export function notify(message, ok = false, action = null) {
  const notice = $("#notice");
  notice.textContent = message;
  notice.className = ok ? "ok" : "";
  if (action) {
    const link = document.createElement("a");
    link.href = action.href;
    link.textContent = action.text;
    notice.append(" ", link);
  }
}

export function dollars(cents) {
  return `${cents < 0 ? "-" : ""}$${(Math.abs(cents) / 100).toFixed(2)}`;
}

export function clock(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

// Dollars with at most two decimals, from `min` to `max` cents; null for anything else.
export function cents(text, { min, max }) {
  if (!/^\d+(\.\d{1,2})?$/.test(text.trim())) return null;
  const value = Math.round(parseFloat(text) * 100);
  return value >= min && value <= max ? value : null;
}

// The balance shows in the header, the wallet and the player's meter.
export function showBalance(amount) {
  for (const id of ["#balance", "#wallet-balance", "#meter-balance"]) $(id).textContent = dollars(amount);
}

export function formData(form) {
  return Object.fromEntries(new FormData(form).entries());
}

export function element(tag, properties = {}, ...children) {
  const node = Object.assign(document.createElement(tag), properties);
  node.append(...children);
  return node;
}

export function row(...cells) {
  return element("tr", {}, ...cells.map((cell) => element("td", {}, cell)));
}

export function emptyRow(text, columns) {
  const tr = row(text);
  tr.firstChild.colSpan = columns;
  return tr;
}

// A field's own error, next to it; `message` empty clears it.
export function fieldError(field, message) {
  const error = $(`#${field.getAttribute("aria-describedby")}`);
  error.textContent = message;
  field.setAttribute("aria-invalid", String(Boolean(message)));
}

// The API names a bad field in `details` ({field, message}); show each next to its input.
export function showFieldErrors(form, error) {
  let shown = false;
  for (const detail of error.details || []) {
    const field = detail.field && form.elements[detail.field];
    if (field && field.getAttribute("aria-describedby")) {
      fieldError(field, detail.message);
      shown = true;
    }
  }
  return shown;
}

export function clearFieldErrors(form) {
  for (const field of form.querySelectorAll("[aria-describedby]")) fieldError(field, "");
}
