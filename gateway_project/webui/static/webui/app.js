// The Streamify demo client: every call below is a public API route through this gateway.
"use strict";

const HEARTBEAT_MS = 15000;
const $ = (selector) => document.querySelector(selector);
const state = { token: localStorage.getItem("token"), session: null, heartbeat: null };

function notify(message, ok = false) {
  $("#notice").textContent = message;
  $("#notice").className = ok ? "ok" : "";
}

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (state.token) headers["Authorization"] = `Bearer ${state.token}`;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = (data.details || []).map((d) => d.message).filter(Boolean).join("; ");
    const error = new Error([data.error || response.statusText, detail].filter(Boolean).join(": "));
    error.status = response.status;
    throw error;
  }
  return data;
}

function formData(form) {
  return Object.fromEntries(new FormData(form).entries());
}

function dollars(cents) {
  return `$${(cents / 100).toFixed(2)}`;
}

async function showAccount() {
  const signedIn = Boolean(state.token);
  $("#account").hidden = signedIn;
  $("#wallet").hidden = !signedIn;
  $("#logout").hidden = !signedIn;
  if (!signedIn) {
    $("#who").textContent = "not signed in";
    $("#balance").textContent = "";
    return;
  }
  try {
    const me = await api("POST", "/api/auth/verify");
    $("#who").textContent = `${me.firstName} ${me.lastName}`;
    const wallet = await api("GET", "/api/billing/balance");
    $("#balance").textContent = dollars(wallet.balance);
  } catch (error) {
    if (error.status === 401 || error.status === 403) signOut("Your session expired; sign in again.");
    else notify(error.message);
  }
}

function signOut(message) {
  state.token = null;
  localStorage.removeItem("token");
  showAccount();
  if (message) notify(message);
}

async function loadVideos(search = "") {
  const query = new URLSearchParams({ page: 1, limit: 24 });
  if (search) query.set("search", search);
  const data = await api("GET", `/api/videos?${query}`);
  const list = $("#videos");
  list.replaceChildren();
  for (const video of data.videos) {
    const item = document.createElement("li");
    const image = document.createElement("img");
    image.alt = "";
    if (video.thumbnailUrl) image.src = video.thumbnailUrl;
    const title = document.createElement("strong");
    title.textContent = video.title;
    const meta = document.createElement("div");
    meta.textContent = `${Math.round(video.duration || 0)} s · ${dollars(video.pricePerMinute)}/min`;
    const watch = document.createElement("button");
    watch.textContent = "Watch";
    watch.onclick = () => startStream(video);
    item.append(image, title, meta, watch);
    list.append(item);
  }
  if (!data.videos.length) list.textContent = "No videos yet.";
}

async function startStream(video) {
  if (!state.token) return notify("Sign in to watch.");
  await endStream();
  try {
    const started = await api("POST", `/api/stream/start/${video.id}`, {});
    state.session = started.sessionId;
    $("#player").hidden = false;
    $("#playing").textContent = video.title;
    $("#video").src = started.streamUrl;  // the session id in the URL is the capability
    $("#video").play().catch(() => {});
    state.heartbeat = setInterval(heartbeat, HEARTBEAT_MS);
    notify(`Streaming at ${dollars(video.pricePerMinute)} per started minute.`, true);
    showAccount();
  } catch (error) {
    notify(error.status === 402 ? "Not enough funds for the first minute: deposit first." : error.message);
  }
}

async function heartbeat() {
  if (!state.session) return;
  try {
    const beat = await api("PUT", `/api/stream/heartbeat/${state.session}`, {});
    $("#charged").textContent = `${beat.minutesCharged} minute(s), charged ${dollars(beat.charged)}`;
    showAccount();
  } catch (error) {
    stopPlayer();
    notify(error.status === 402 ? "Your balance ran out: the stream ended." : error.message);
  }
}

function stopPlayer() {
  clearInterval(state.heartbeat);
  state.heartbeat = null;
  state.session = null;
  $("#video").pause();
  $("#video").removeAttribute("src");
  $("#player").hidden = true;
}

async function endStream() {
  const session = state.session;
  if (!session) return;
  stopPlayer();
  try {
    const ended = await api("POST", `/api/stream/end/${session}`, {});
    notify(`Stream ended: ${ended.minutesCharged ?? 0} minute(s), ${dollars(ended.amountCharged ?? 0)}.`, true);
  } catch (error) {
    notify(error.message);
  }
  showAccount();
}

$("#login").onsubmit = async (event) => {
  event.preventDefault();
  try {
    const data = await api("POST", "/api/auth/login", formData(event.target));
    state.token = data.token;
    localStorage.setItem("token", data.token);
    notify("Signed in.", true);
    showAccount();
  } catch (error) {
    notify(error.message);
  }
};

$("#register").onsubmit = async (event) => {
  event.preventDefault();
  const fields = formData(event.target);
  try {
    // The registration saga: user, wallet and analytics profile, or none of them.
    let saga = await api("POST", "/api/saga/register", fields);
    while (saga.status === "running" || saga.status === "compensating") {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      saga = await api("GET", `/api/saga/${saga.sagaId}`);
    }
    if (!saga.success) throw new Error(saga.message);
    const login = await api("POST", "/api/auth/login", { email: fields.email, password: fields.password });
    state.token = login.token;
    localStorage.setItem("token", login.token);
    notify("Welcome! Deposit some funds, then pick a video.", true);
    showAccount();
  } catch (error) {
    notify(error.message);
  }
};

$("#deposit").onsubmit = async (event) => {
  event.preventDefault();
  try {
    const amount = parseInt(formData(event.target).amount, 10);
    const data = await api("POST", "/api/billing/deposit", { amount });
    $("#balance").textContent = dollars(data.newBalance);
    notify(data.message || "Deposited.", true);
  } catch (error) {
    notify(error.message);
  }
};

$("#search").onsubmit = (event) => {
  event.preventDefault();
  loadVideos(formData(event.target).search).catch((error) => notify(error.message));
};

$("#end").onclick = endStream;
$("#logout").onclick = () => endStream().then(() => signOut());
window.addEventListener("pagehide", () => {
  // Best effort: tell streaming the viewer left, so billing stops at the last heartbeat.
  if (state.session && state.token) {
    fetch(`/api/stream/end/${state.session}`, {
      method: "POST", keepalive: true,
      headers: { "Authorization": `Bearer ${state.token}`, "Content-Type": "application/json" }, body: "{}",
    });
  }
});

showAccount();
loadVideos().catch((error) => notify(error.message));
