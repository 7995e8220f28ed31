// The studio: upload with the bytes sent, the processing status as it changes, edit and delete.
import { api, claims, upload } from "./api.js";
import { facts, picture } from "./catalog.js";
import {
  $, cents, clearFieldErrors, dollars, element, fieldError, formData, notify, showFieldErrors,
} from "./ui.js";

const POLL_MS = 2000;
const MAX_PRICE_CENTS = 100000;
let poll = null;

export async function loadStudio() {
  clearTimeout(poll);
  const query = new URLSearchParams({ uploadedBy: claims().user_id, limit: 100 });
  const data = await api("GET", `/api/videos?${query}`);
  $("#my-videos").replaceChildren(...data.videos.map(studioCard));
  if (!data.videos.length) $("#my-videos").textContent = "Nothing uploaded yet.";
  // Processing happens in the background: look again until every video is ready or failed.
  if (data.videos.some((video) => video.status === "processing") && location.hash === "#studio") {
    poll = setTimeout(() => loadStudio().catch((error) => notify(error.message)), POLL_MS);
  }
}

export function leaveStudio() {
  clearTimeout(poll);
}

function studioCard(video) {
  const status = element("p", { className: `status ${video.status}` }, statusText(video));
  const form = editForm(video);
  const remove = element("button", { type: "button", textContent: "Delete" });
  remove.setAttribute("aria-label", `Delete ${video.title}`);
  remove.onclick = () => confirmDelete(video, remove);
  const card = element(
    "li", { className: "card studio-card" },
    picture(video), element("h3", {}, video.title), element("p", { className: "meta" }, facts(video)),
    status, form, remove,
  );
  card.dataset.videoId = video.id;
  return card;
}

function statusText(video) {
  if (video.status === "failed") return `Failed: ${video.processingError || "processing failed"}`;
  if (video.status === "processing") return "Processing: probing, thumbnail and HLS renditions…";
  return "Ready: in the catalog.";
}

let fieldIds = 0;

function labelled(text, input) {
  const error = element("span", { className: "field-error", id: `studio-error-${++fieldIds}` });
  error.setAttribute("role", "alert");
  input.setAttribute("aria-describedby", error.id);
  return element("label", {}, text, input, error);
}

function editForm(video) {
  const form = element("form", { className: "edit", noValidate: true });
  form.append(
    labelled("Title", element("input", { name: "title", value: video.title, required: true, maxLength: 200 })),
    labelled("Description", element("textarea", { name: "description", value: video.description || "", maxLength: 5000 })),
    labelled("Category", element("input", { name: "category", value: video.category, maxLength: 50 })),
    labelled("Price per minute (dollars)", element("input", {
      name: "price", type: "number", min: "0", max: "1000", step: "0.01", value: (video.pricePerMinute / 100).toFixed(2),
    })),
    element("button", { textContent: "Save changes" }),
  );
  form.onsubmit = (event) => {
    event.preventDefault();
    saveVideo(video, form).catch((error) => notify(error.message));
  };
  return form;
}

// The price is typed in dollars and sent in cents; a bad one is refused here, the rest by video.
function priceCents(form) {
  const field = form.elements.price;
  const amount = cents(field.value, { min: 0, max: MAX_PRICE_CENTS });
  fieldError(field, amount === null ? "Enter a price from $0.00 to $1000.00 per minute." : "");
  return amount;
}

async function saveVideo(video, form) {
  clearFieldErrors(form);
  const pricePerMinute = priceCents(form);
  if (pricePerMinute === null) return;
  const { title, description, category } = formData(form);
  try {
    const saved = await api("PUT", `/api/videos/${video.id}`, { title, description, category, pricePerMinute });
    await loadStudio();
    notify(`Saved “${saved.title}”.`, true);
  } catch (error) {
    if (!showFieldErrors(form, error)) notify(error.message);
  }
}

// Deleting asks twice: the first press turns the button into the confirmation.
async function confirmDelete(video, button) {
  if (!button.dataset.armed) {
    button.dataset.armed = "1";
    button.textContent = "Press again to delete for good";
    button.setAttribute("aria-label", `Press again to delete ${video.title} for good`);
    return;
  }
  try {
    await api("DELETE", `/api/videos/${video.id}`);
    await loadStudio();
    notify(`Deleted “${video.title}”.`, true);
  } catch (error) {
    notify(error.message);
  }
}

function showProgress(sent, total) {
  if (!total) return;  // the browser does not know the size (yet)
  const bar = $("#upload-progress");
  bar.max = total;
  bar.value = sent;
  $("#upload-bytes").textContent = `${sent.toLocaleString()} / ${total.toLocaleString()} bytes`
    + ` (${Math.floor((sent / total) * 100)}%)`;
}

$("#upload").onsubmit = async (event) => {
  event.preventDefault();
  const form = event.target;
  clearFieldErrors(form);
  const pricePerMinute = priceCents(form);
  const file = form.elements.videoFile.files[0];
  if (!file) fieldError(form.elements.videoFile, "Choose a video file.");
  if (!form.elements.title.value.trim()) fieldError(form.elements.title, "Give the video a title.");
  if (pricePerMinute === null || !file || !form.elements.title.value.trim()) return;
  const body = new FormData(form);
  body.delete("price");
  body.set("pricePerMinute", String(pricePerMinute));
  if (!body.get("category")) body.delete("category");
  const button = form.querySelector("button");
  button.disabled = true;
  $("#upload-status").hidden = false;
  showProgress(0, file.size);
  try {
    const video = await upload("/api/videos", body, showProgress);
    form.reset();
    await loadStudio();
    notify(`Uploaded “${video.title}”: processing now.`, true);
  } catch (error) {
    if (!showFieldErrors(form, error)) notify(error.message);
  } finally {
    button.disabled = false;
  }
};
