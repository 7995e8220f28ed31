// Calls to the gateway's public API with the viewer's tokens, kept fresh.
//
// Login answers an access token (15 minutes by default) and a refresh token. The access token
// is rotated a minute before it expires, and once more if an answer says it is no longer good
// (a laptop that slept past the timer), so a long film never ends in a 401.

const REFRESH_MARGIN_MS = 60000;
const MIN_REFRESH_DELAY_MS = 5000;

const tokens = { access: localStorage.getItem("token"), refresh: localStorage.getItem("refreshToken") };
let refreshTimer = null;
let refreshing = null;
let onSignedOut = () => {};

export function signedIn() {
  return Boolean(tokens.access);
}

export function accessToken() {
  return tokens.access;
}

// The access token's claims (user_id, is_staff, exp): read to shape the page, never trusted
// for access, which every service checks itself.
export function claims() {
  if (!tokens.access) return {};
  try {
    const part = tokens.access.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part));
  } catch {
    return {};
  }
}

export function whenSignedOut(callback) {
  onSignedOut = callback;
}

export function keepTokens(pair) {
  tokens.access = pair.token;
  tokens.refresh = pair.refreshToken || tokens.refresh;
  localStorage.setItem("token", tokens.access);
  if (tokens.refresh) localStorage.setItem("refreshToken", tokens.refresh);
  scheduleRefresh();
}

export function dropTokens() {
  clearTimeout(refreshTimer);
  tokens.access = tokens.refresh = null;
  localStorage.removeItem("token");
  localStorage.removeItem("refreshToken");
}

export function scheduleRefresh() {
  clearTimeout(refreshTimer);
  const { exp } = claims();
  if (!exp || !tokens.refresh) return;
  const due = exp * 1000 - REFRESH_MARGIN_MS - Date.now();
  // Already due: rotate now, before the first call that would need it.
  if (due <= 0) return void refreshTokens();
  refreshTimer = setTimeout(refreshTokens, Math.max(due, MIN_REFRESH_DELAY_MS));
}

// One rotation at a time: a refresh token is good for one use.
export function refreshTokens() {
  if (!refreshing) {
    refreshing = rotate().finally(() => { refreshing = null; });
  }
  return refreshing;
}

async function rotate() {
  // Another tab may have rotated already (a refresh token is good for one use): take its pair.
  if (adoptStoredTokens()) return true;
  const used = tokens.refresh;
  if (!used) return false;
  const response = await fetch("/api/auth/token/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Accept": "application/json" },
    body: JSON.stringify({ refreshToken: used }),
  }).catch(() => null);
  if (response && response.ok) {
    keepTokens(await response.json());
    return true;
  }
  const busy = !response || response.status === 429 || response.status >= 500;
  if (busy) {
    refreshTimer = setTimeout(refreshTokens, MIN_REFRESH_DELAY_MS);  // try again, later
    return false;
  }
  if (adoptStoredTokens()) return true;  // refused because another tab used it first
  if (localStorage.getItem("refreshToken") === used) {
    dropTokens();
    onSignedOut("Your session expired; sign in again.");
  }
  return false;
}

// The pair in localStorage, when another tab has stored a newer one than this tab holds.
function adoptStoredTokens() {
  const stored = { access: localStorage.getItem("token"), refresh: localStorage.getItem("refreshToken") };
  if (!stored.refresh || stored.refresh === tokens.refresh) return false;
  tokens.access = stored.access;
  tokens.refresh = stored.refresh;
  scheduleRefresh();
  return true;
}

// Signing in or out, or a rotation, in another tab applies here too.
window.addEventListener("storage", (event) => {
  if (event.key !== "refreshToken") return;
  if (event.newValue) adoptStoredTokens();
  else if (tokens.refresh) {
    clearTimeout(refreshTimer);
    tokens.access = tokens.refresh = null;
    onSignedOut("Signed out in another tab.");
  }
});

function apiError(response, data) {
  const details = data.details || [];
  const detail = details.map((d) => d.message).filter(Boolean).join("; ");
  const error = new Error([data.error || response.statusText, detail].filter(Boolean).join(": "));
  error.status = response.status;
  error.details = details;
  return error;
}

function headers(json) {
  const values = { "Accept": "application/json" };
  if (json) values["Content-Type"] = "application/json";
  if (tokens.access) values["Authorization"] = `Bearer ${tokens.access}`;
  return values;
}

// Refused for the token (401 none, 403 expired; a 403 with a good token is a real "no"):
// rotate once and ask again.
function tokenRefused(status) {
  const expired = (claims().exp || 0) * 1000 <= Date.now() + MIN_REFRESH_DELAY_MS;
  return Boolean(tokens.refresh) && (status === 401 || (status === 403 && expired));
}

export async function api(method, path, body, retried = false) {
  const response = await fetch(path, {
    method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (response.ok) return data;
  if (!retried && tokenRefused(response.status) && await refreshTokens()) return api(method, path, body, true);
  throw apiError(response, data);
}

// A multipart upload with its progress: fetch cannot report bytes sent, XMLHttpRequest can.
export function upload(path, form, onProgress, retried = false) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", path);
    for (const [name, value] of Object.entries(headers(false))) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => onProgress(event.loaded, event.total);
    request.onerror = () => reject(new Error("The upload was interrupted; try again."));
    request.onload = async () => {
      let data = {};
      try { data = JSON.parse(request.responseText); } catch { /* not JSON: statusText says it */ }
      if (request.status >= 200 && request.status < 300) return resolve(data);
      if (!retried && tokenRefused(request.status) && await refreshTokens()) {
        return upload(path, form, onProgress, true).then(resolve, reject);
      }
      reject(apiError({ status: request.status, statusText: request.statusText }, data));
    };
    request.send(form);
  });
}
