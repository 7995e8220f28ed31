// The Streamify demo client: every call below is a public API route through this gateway.
"use strict";

// Streaming serves media only up to the paid time plus a 30 s read-ahead (docs/streaming.md),
// and each heartbeat pays the minute that has started. So the player beats every 10 s and
// once just after each minute starts, and hls.js buffers at most 15 s ahead: well inside the
// read-ahead, a player watching at normal speed never asks for media past the paid edge.
const HEARTBEAT_MS = 10000;
const BUFFER_SECONDS = 15;
const $ = (selector) => document.querySelector(selector);
const state = {
  token: localStorage.getItem("token"), session: null, heartbeat: null, startedAt: 0, hls: null,
  edge: null, recovery: { at: -1, count: 0 }, recovering: false, awaitingPayment: false,
};

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

function clock(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

async function startStream(video) {
  if (!state.token) return notify("Sign in to watch.");
  await endStream();
  try {
    const started = await api("POST", `/api/stream/start/${video.id}`, {});
    state.session = started.sessionId;
    state.edge = started;
    state.startedAt = Date.now();
    state.recovery = { at: -1, count: 0 };
    $("#player").hidden = false;
    $("#playing").textContent = video.title;
    attachMedia(started, 0);
    scheduleHeartbeat();
    notify(`Streaming at ${dollars(video.pricePerMinute)} per started minute.`, true);
    showAccount();
  } catch (error) {
    notify(error.status === 402 ? "Not enough funds for the first minute: deposit first." : error.message);
  }
}

// The signed URLs (streamUrl, hlsUrl) come from the start and from every heartbeat: HLS through
// hls.js where the browser has Media Source Extensions, native HLS (Safari), else the MP4.
function attachMedia(urls, position) {
  const element = $("#video");
  detachMedia();
  if (urls.hlsUrl && window.Hls && Hls.isSupported()) {
    const hls = new Hls({
      maxBufferLength: BUFFER_SECONDS, maxMaxBufferLength: BUFFER_SECONDS, startPosition: position,
    });
    hls.on(Hls.Events.ERROR, (event, data) => {
      const status = data.response ? data.response.code : 0;
      if (status === 402) awaitPayment(hls);
      else if (data.fatal) recoverPlayback(status);
    });
    hls.loadSource(urls.hlsUrl);
    hls.attachMedia(element);
    state.hls = hls;
  } else {
    const native = urls.hlsUrl && element.canPlayType("application/vnd.apple.mpegurl");
    element.src = native ? urls.hlsUrl : urls.streamUrl;
    if (position) element.addEventListener("loadedmetadata", () => { element.currentTime = position; }, { once: true });
  }
  element.play().catch(() => {});
}

function detachMedia() {
  if (state.hls) state.hls.destroy();
  state.hls = null;
  state.awaitingPayment = false;
  $("#video").removeAttribute("src");
  $("#video").load();
}

// A player that gave up (a URL that expired during a long pause: 403; a native player refused
// past the paid edge: 402) is started again: pay what is due, tell the viewer if the media is
// not paid yet, and go on from where the paid media allows, with fresh URLs.
async function recoverPlayback(status) {
  if (!state.session || state.recovering) return;
  state.recovering = true;
  try {
    await resume(status);
  } finally {
    state.recovering = false;
  }
}

async function resume(status) {
  const position = $("#video").currentTime;
  const beat = await heartbeat();
  if (!beat) {
    if (state.session) setTimeout(() => recoverPlayback(status), 3000);  // billing busy: retry
    return;
  }
  const pastEdge = status === 402 || position >= beat.edgeSeconds - 1;
  const resumeAt = pastEdge ? Math.min(position, beat.paidSeconds) : position;
  state.recovery = state.recovery.at === resumeAt
    ? { at: resumeAt, count: state.recovery.count + 1 } : { at: resumeAt, count: 1 };
  if (pastEdge) notPaidYet(beat, resumeAt);
  if (state.recovery.count > 3) {
    stopPlayer();
    return notify("Playback keeps failing at the same point; end the stream and try again.");
  }
  attachMedia(beat, resumeAt);
}

// The buffer reached the paid edge (after a seek ahead of the watch time): stop loading until
// the heartbeat that pays the next minute, then go on from where the buffer ends.
function awaitPayment(hls) {
  hls.stopLoad();
  state.awaitingPayment = true;
  notify(`Loaded up to ${clock(state.edge.edgeSeconds)}, as far as is paid: the next minute is `
    + "paid when it starts, and loading goes on then.", true);
}

function notPaidYet(edge, resumeAt) {
  notify(`Not paid that far yet: ${clock(edge.paidSeconds)} of this video is paid and media up to `
    + `${clock(edge.edgeSeconds)} may be loaded; each started minute is paid as you watch. `
    + `Playing from ${clock(resumeAt)}.`);
}

// A seek past the paid edge would only be refused (402): say so and play from the paid time.
$("#video").addEventListener("seeking", () => {
  const element = $("#video");
  if (!state.session || !state.edge || element.currentTime < state.edge.edgeSeconds) return;
  notPaidYet(state.edge, state.edge.paidSeconds);
  element.currentTime = state.edge.paidSeconds;
});

$("#video").addEventListener("error", () => {
  if (state.session && !state.hls) recoverPlayback(0);
});
// Played to the end: settle now rather than heartbeat an idle session until the page closes.
$("#video").addEventListener("ended", () => endStream());

// Beat every HEARTBEAT_MS, and one second after each minute of the session starts, so the
// charge that moves the paid edge lands at once.
function scheduleHeartbeat() {
  clearTimeout(state.heartbeat);
  const elapsed = Date.now() - state.startedAt;
  const nextMinute = (Math.floor((elapsed - 1000) / 60000) + 1) * 60000 + 1000 - elapsed;
  state.heartbeat = setTimeout(async () => {
    await heartbeat();
    if (state.session) scheduleHeartbeat();
  }, Math.min(HEARTBEAT_MS, nextMinute));
}

async function heartbeat() {
  if (!state.session) return null;
  try {
    const beat = await api("PUT", `/api/stream/heartbeat/${state.session}`, {});
    state.edge = beat;
    if (state.awaitingPayment && state.hls) {
      state.hls.startLoad();
      notify(`Paid through ${clock(beat.paidSeconds)}: loading goes on.`, true);
    }
    state.awaitingPayment = false;
    $("#charged").textContent = `${beat.minutesCharged} minute(s), charged ${dollars(beat.charged)}`
      + ` · paid through ${clock(beat.paidSeconds)}`;
    showAccount();
    return beat;
  } catch (error) {
    if (error.status === 402 || error.status === 404 || error.status === 410) {
      stopPlayer();
      notify(error.status === 402 ? "Your balance ran out: the stream ended." : error.message);
      return null;
    }
    notify(`Heartbeat failed (${error.message}); retrying.`);
    return null;
  }
}

function stopPlayer() {
  clearTimeout(state.heartbeat);
  state.heartbeat = null;
  state.session = null;
  $("#video").pause();
  detachMedia();
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
