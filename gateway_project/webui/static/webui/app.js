// The Streamify demo client: every call below is a public API route through this gateway.
"use strict";

// Streaming serves media only up to the paid time plus a 30 s read-ahead (docs/streaming.md),
// and each heartbeat pays the minute that has started. So the player beats every 10 s and
// once just after each minute starts, and hls.js buffers at most 15 s ahead: well inside the
// read-ahead, a player watching at normal speed never asks for media past the paid edge.
const HEARTBEAT_MS = 10000;
const BUFFER_SECONDS = 15;
const $ = (selector) => document.querySelector(selector);
const PAGE_SIZE = 12;
const TRANSACTIONS_PAGE = 10;
const MAX_DEPOSIT_DOLLARS = 10000;
const state = {
  token: localStorage.getItem("token"), session: null, heartbeat: null, startedAt: 0, hls: null,
  edge: null, recovery: { at: -1, count: 0 }, recovering: false, awaitingPayment: false,
  catalog: { page: 1, search: "", category: "" }, categories: new Set(), transactionsOffset: 0,
};

// `action`, a link that resolves the message ({href, text}), follows the message.
function notify(message, ok = false, action = null) {
  $("#notice").textContent = message;
  $("#notice").className = ok ? "ok" : "";
  if (action) {
    const link = document.createElement("a");
    link.href = action.href;
    link.textContent = action.text;
    $("#notice").append(" ", link);
  }
}

const TO_WALLET = { href: "#wallet", text: "Deposit in the Wallet" };

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
  return `${cents < 0 ? "-" : ""}$${(Math.abs(cents) / 100).toFixed(2)}`;
}

function showBalance(cents) {
  $("#balance").textContent = dollars(cents);
  $("#wallet-balance").textContent = dollars(cents);
  $("#meter-balance").textContent = dollars(cents);
}

async function showAccount() {
  const signedIn = Boolean(state.token);
  $("#account").hidden = signedIn;
  $("#nav").hidden = !signedIn;
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
    showBalance(wallet.balance);
  } catch (error) {
    if (error.status === 401 || error.status === 403) signOut("Your session expired; sign in again.");
    else notify(error.message);
  }
}

function signOut(message) {
  state.token = null;
  localStorage.removeItem("token");
  showAccount();
  location.hash = "#catalog";
  if (message) notify(message);
}

// Views: the catalog for everyone; the wallet and the history once signed in.
const SIGNED_IN_VIEWS = { wallet: () => loadTransactions(0), history: () => loadHistory() };

function route() {
  let view = location.hash.slice(1) || "catalog";
  if (!document.querySelector(`section[data-view]#${CSS.escape(view)}`)) view = "catalog";
  if (SIGNED_IN_VIEWS[view] && !state.token) {
    notify("Sign in first.");
    view = "catalog";
  }
  for (const section of document.querySelectorAll("section[data-view]")) {
    section.hidden = section.id !== view;
  }
  for (const link of document.querySelectorAll("#nav a")) {
    link.toggleAttribute("aria-current", link.hash === `#${view}`);
  }
  if (SIGNED_IN_VIEWS[view]) SIGNED_IN_VIEWS[view]().catch((error) => notify(error.message));
}

// The catalog: a page of ready videos (and the viewer's own in processing), newest first.
async function loadVideos() {
  const { page, search, category } = state.catalog;
  const query = new URLSearchParams({ page, limit: PAGE_SIZE });
  if (search) query.set("search", search);
  if (category) query.set("category", category);
  const data = await api("GET", `/api/videos?${query}`);
  const list = $("#videos");
  list.replaceChildren(...data.videos.map(videoCard));
  if (!data.videos.length) list.textContent = "No videos match.";
  const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
  $("#page").textContent = `Page ${page} of ${pages}`;
  $("#prev").disabled = page <= 1;
  $("#next").disabled = page >= pages;
  if (!category) rememberCategories(data.videos);
}

function videoCard(video) {
  const item = document.createElement("li");
  item.className = "card";
  const ready = video.status === "ready";
  let picture;
  if (ready && video.thumbnailUrl) {
    picture = document.createElement("img");
    picture.src = video.thumbnailUrl;
    picture.loading = "lazy";
    picture.alt = "";
  } else {
    picture = document.createElement("div");
    picture.className = "placeholder";
    picture.textContent = ready ? "no thumbnail" : `${video.status}…`;
  }
  const title = document.createElement("h3");
  title.textContent = video.title;
  const meta = document.createElement("p");
  meta.className = "meta";
  meta.textContent = `${clock(video.duration || 0)} · ${dollars(video.pricePerMinute)}/min · ${video.category}`;
  const description = document.createElement("p");
  description.textContent = video.description || "";
  const watch = document.createElement("button");
  watch.textContent = "Watch";
  watch.disabled = !ready;
  watch.setAttribute("aria-label", `Watch ${video.title}`);
  watch.onclick = () => startStream(video);
  item.append(picture, title, meta, description, watch);
  return item;
}

function rememberCategories(videos) {
  const select = $("#search select[name=category]");
  for (const video of videos) {
    if (!video.category || state.categories.has(video.category)) continue;
    state.categories.add(video.category);
    select.append(new Option(video.category, video.category));
  }
}

async function loadTransactions(offset) {
  const query = new URLSearchParams({ limit: TRANSACTIONS_PAGE, offset });
  const data = await api("GET", `/api/billing/transactions?${query}`);
  state.transactionsOffset = offset;
  const rows = data.transactions.map((entry) => row(
    new Date(entry.createdAt).toLocaleString(),
    [entry.type, entry.description].filter(Boolean).join(": "),
    dollars(entry.amount),
    dollars(entry.balanceAfter),
  ));
  $("#transactions tbody").replaceChildren(...rows);
  if (!rows.length) $("#transactions tbody").append(emptyRow("No transactions yet.", 4));
  const last = Math.min(offset + TRANSACTIONS_PAGE, data.total);
  $("#tx-page").textContent = data.total ? `${offset + 1}-${last} of ${data.total}` : "";
  $("#tx-prev").disabled = offset <= 0;
  $("#tx-next").disabled = last >= data.total;
  showBalance(data.transactions.length && offset === 0
    ? data.transactions[0].balanceAfter : (await api("GET", "/api/billing/balance")).balance);
}

// What each viewing cost: the charges billing booked for its session.
async function loadHistory() {
  const [views, ledger] = await Promise.all([
    api("GET", "/api/analytics/user?limit=50"),
    api("GET", "/api/billing/transactions?limit=100"),
  ]);
  const cost = {};
  for (const entry of ledger.transactions) {
    if (entry.sessionId && entry.amount < 0) cost[entry.sessionId] = (cost[entry.sessionId] || 0) - entry.amount;
  }
  $("#history-totals").textContent = `${views.totalViews} view(s), ${clock(views.totalWatchTime)} watched, `
    + `${dollars(views.amountSpent)} spent.`;
  const rows = views.history.map((view) => row(
    new Date(view.watchedAt).toLocaleString(),
    view.title || `video ${view.videoId}`,
    clock(view.watchTime),
    view.sessionId && cost[view.sessionId] !== undefined ? dollars(cost[view.sessionId]) : "–",
  ));
  $("#views tbody").replaceChildren(...rows);
  if (!rows.length) $("#views tbody").append(emptyRow("Nothing watched yet.", 4));
}

function row(...cells) {
  const tr = document.createElement("tr");
  for (const text of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

function emptyRow(text, columns) {
  const tr = row(text);
  tr.firstChild.colSpan = columns;
  return tr;
}

// The live meter: what this session has paid, updated by the start and by every heartbeat.
function showMeter(paid) {
  $("#meter-minutes").textContent = String(paid.minutesCharged);
  $("#meter-spent").textContent = dollars(paid.charged);
  $("#meter-paid").textContent = clock(paid.paidSeconds);
  if (paid.balance !== null && paid.balance !== undefined) showBalance(paid.balance);
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
    showMeter(started);
    attachMedia(started, 0);
    scheduleHeartbeat();
    notify(`Streaming at ${dollars(video.pricePerMinute)} per started minute.`, true);
    $("#player").scrollIntoView({ block: "start" });
  } catch (error) {
    if (error.status === 402) notify("Not enough funds for the first minute.", false, TO_WALLET);
    else notify(error.message);
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
    showMeter(beat);
    return beat;
  } catch (error) {
    if (error.status === 402 || error.status === 404 || error.status === 410) {
      stopPlayer();
      if (error.status === 402) notify("Your balance ran out: the stream ended.", false, TO_WALLET);
      else notify(error.message);
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

// Dollars with at most two decimals, more than 0 and at most MAX_DEPOSIT_DOLLARS; the server
// checks the cents again.
function depositCents(text) {
  if (!/^\d+(\.\d{1,2})?$/.test(text.trim())) return null;
  const cents = Math.round(parseFloat(text) * 100);
  return cents >= 1 && cents <= MAX_DEPOSIT_DOLLARS * 100 ? cents : null;
}

$("#deposit").onsubmit = async (event) => {
  event.preventDefault();
  const field = event.target.elements.dollars;
  const amount = depositCents(field.value);
  $("#deposit-error").textContent = amount === null
    ? `Enter an amount from $0.01 to $${MAX_DEPOSIT_DOLLARS}, in dollars and cents.` : "";
  field.setAttribute("aria-invalid", String(amount === null));
  if (amount === null) return field.focus();
  try {
    const data = await api("POST", "/api/billing/deposit", { amount });
    showBalance(data.newBalance);
    notify(`${data.message}: ${dollars(amount)}.`, true);
    await loadTransactions(0);
  } catch (error) {
    $("#deposit-error").textContent = error.message;
  }
};

$("#search").onsubmit = (event) => {
  event.preventDefault();
  const fields = formData(event.target);
  state.catalog = { page: 1, search: fields.search.trim(), category: fields.category };
  loadVideos().catch((error) => notify(error.message));
};

function turnPage(step) {
  state.catalog.page += step;
  loadVideos().catch((error) => notify(error.message));
}

$("#prev").onclick = () => turnPage(-1);
$("#next").onclick = () => turnPage(1);
$("#tx-prev").onclick = () => loadTransactions(Math.max(0, state.transactionsOffset - TRANSACTIONS_PAGE))
  .catch((error) => notify(error.message));
$("#tx-next").onclick = () => loadTransactions(state.transactionsOffset + TRANSACTIONS_PAGE)
  .catch((error) => notify(error.message));
window.addEventListener("hashchange", route);

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
route();
loadVideos().catch((error) => notify(error.message));
