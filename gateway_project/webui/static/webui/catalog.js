// The catalog: a page of ready videos (and the viewer's own in processing), newest first, and
// one video's page with its player.
import { api } from "./api.js";
import { endStream, startStream, streaming } from "./player.js";
import { $, clock, dollars, element, formData, notify } from "./ui.js";

const PAGE_SIZE = 12;
const state = { page: 1, search: "", category: "", categories: new Set(), shown: null, playNext: null };

export async function loadVideos() {
  const { page, search, category } = state;
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

// The picture of a video: its thumbnail once ready, else a box that says where it is.
export function picture(video) {
  if (video.status === "ready" && video.thumbnailUrl) {
    return element("img", { src: video.thumbnailUrl, loading: "lazy", alt: "", className: "picture" });
  }
  const label = video.status === "ready" ? "no thumbnail" : `${video.status}…`;
  return element("div", { className: "picture placeholder" }, label);
}

export function facts(video) {
  return `${clock(video.duration || 0)} · ${dollars(video.pricePerMinute)}/min · ${video.category}`;
}

function videoCard(video) {
  const ready = video.status === "ready";
  const title = element("h3", {}, element("a", { href: `#watch/${video.id}` }, video.title));
  const watch = element("button", { textContent: "Watch", disabled: !ready, type: "button" });
  watch.setAttribute("aria-label", `Watch ${video.title}`);
  watch.onclick = () => {
    state.playNext = video.id;
    if (location.hash === `#watch/${video.id}`) showVideo(video.id);
    else location.hash = `#watch/${video.id}`;
  };
  return element(
    "li", { className: "card" },
    picture(video), title, element("p", { className: "meta" }, facts(video)),
    element("p", {}, video.description || ""), watch,
  );
}

function rememberCategories(videos) {
  const select = $("#search select[name=category]");
  for (const video of videos) {
    if (!video.category || state.categories.has(video.category)) continue;
    state.categories.add(video.category);
    select.append(new Option(video.category, video.category));
  }
}

// `#watch/<id>`: the video's page; a Watch pressed on its card starts the stream at once.
export async function showVideo(id) {
  const play = state.playNext === id;
  state.playNext = null;
  if (state.shown?.id === id && streaming()) return;
  const video = await api("GET", `/api/videos/${id}`);
  state.shown = video;
  $("#watch-title").textContent = video.title;
  $("#watch-picture").replaceChildren(picture(video));
  $("#watch-facts").textContent = `${facts(video)} · ${video.status}`;
  $("#watch-description").textContent = video.description || "No description.";
  $("#watch-price").textContent = `${dollars(video.pricePerMinute)} per started minute: you pay each `
    + "minute as it starts, and only for the minutes you watch.";
  $("#watch-start").disabled = video.status !== "ready";
  $("#meter").hidden = true;
  $("#watch-picture").hidden = false;
  if (play) await start();
}

async function start() {
  $("#watch-picture").hidden = true;
  await startStream(state.shown);
  $("#watch-picture").hidden = streaming();
}

// Leaving the video's page ends its stream, as closing the page does.
export function leaveVideo() {
  if (streaming()) endStream();
}

$("#watch-start").onclick = () => start();

$("#search").onsubmit = (event) => {
  event.preventDefault();
  const fields = formData(event.target);
  Object.assign(state, { page: 1, search: fields.search.trim(), category: fields.category });
  loadVideos().catch((error) => notify(error.message));
};

function turnPage(step) {
  state.page += step;
  loadVideos().catch((error) => notify(error.message));
}

$("#prev").onclick = () => turnPage(-1);
$("#next").onclick = () => turnPage(1);
