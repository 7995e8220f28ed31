// The player: a paid session, its media within the paid edge, and the live meter.
//
// Streaming serves media only up to the paid time plus a 30 s read-ahead (docs/streaming.md),
// and each heartbeat pays the minute that has started. So the player beats every 10 s and
// once just after each minute starts, and hls.js buffers at most 15 s ahead: well inside the
// read-ahead, a player watching at normal speed never asks for media past the paid edge.
import { accessToken, api, signedIn } from "./api.js";
import { $, TO_WALLET, clock, dollars, notify, showBalance } from "./ui.js";

const HEARTBEAT_MS = 10000;
const BUFFER_SECONDS = 15;
const state = {
  session: null, heartbeat: null, startedAt: 0, hls: null, edge: null,
  recovery: { at: -1, count: 0 }, recovering: false, awaitingPayment: false,
};

export function streaming() {
  return Boolean(state.session);
}

// The live meter: what this session has paid, updated by the start and by every heartbeat.
function showMeter(paid) {
  $("#meter-minutes").textContent = String(paid.minutesCharged);
  $("#meter-spent").textContent = dollars(paid.charged);
  $("#meter-paid").textContent = clock(paid.paidSeconds);
  if (paid.balance !== null && paid.balance !== undefined) showBalance(paid.balance);
}

export async function startStream(video) {
  if (!signedIn()) return notify("Sign in to watch.");
  await endStream();
  try {
    const started = await api("POST", `/api/stream/start/${video.id}`, {});
    state.session = started.sessionId;
    state.edge = started;
    state.startedAt = Date.now();
    state.recovery = { at: -1, count: 0 };
    $("#player").hidden = false;
    $("#meter").hidden = false;
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
  const session = state.session;
  if (!session) return null;
  try {
    const beat = await api("PUT", `/api/stream/heartbeat/${session}`, {});
    if (state.session !== session) return null;  // ended (or replaced) while it was in flight
    state.edge = beat;
    if (state.awaitingPayment && state.hls) {
      state.hls.startLoad();
      notify(`Paid through ${clock(beat.paidSeconds)}: loading goes on.`, true);
    }
    state.awaitingPayment = false;
    showMeter(beat);
    return beat;
  } catch (error) {
    if (state.session !== session) return null;
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

export async function endStream() {
  const session = state.session;
  if (!session) return;
  stopPlayer();
  try {
    const ended = await api("POST", `/api/stream/end/${session}`, {});
    notify(`Stream ended: ${ended.minutesCharged ?? 0} minute(s), ${dollars(ended.amountCharged ?? 0)}.`, true);
  } catch (error) {
    notify(error.message);
  }
  api("GET", "/api/billing/balance").then((wallet) => showBalance(wallet.balance), () => {});
}

$("#end").onclick = endStream;
window.addEventListener("pagehide", () => {
  // Best effort: tell streaming the viewer left, so billing stops at the last heartbeat.
  if (state.session && accessToken()) {
    fetch(`/api/stream/end/${state.session}`, {
      method: "POST", keepalive: true,
      headers: { "Authorization": `Bearer ${accessToken()}`, "Content-Type": "application/json" }, body: "{}",
    });
  }
});
