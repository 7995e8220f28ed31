// The Streamify web client: a small static app; every call is a public API route through this
// gateway, with the same tokens as any client. This module routes `#view[/id]` to the views.
import { signedIn } from "./api.js";
import { loadProfile, showAccount } from "./account.js";
import { leaveVideo, loadVideos, showVideo } from "./catalog.js";
import { loadHistory } from "./history.js";
import { loadInsights } from "./insights.js";
import { leaveStudio, loadStudio } from "./studio.js";
import { notify } from "./ui.js";
import { loadTransactions } from "./wallet.js";

// What each view loads when shown, and whether it needs a signed-in viewer.
const VIEWS = {
  catalog: { load: () => loadVideos() },
  watch: { load: (id) => showVideo(Number(id)), leave: leaveVideo },
  wallet: { load: () => loadTransactions(0), signedIn: true },
  history: { load: loadHistory, signedIn: true },
  studio: { load: loadStudio, leave: leaveStudio, signedIn: true },
  insights: { load: loadInsights, signedIn: true },
  profile: { load: loadProfile, signedIn: true },
};
let current = null;

function route(event) {
  let [name, id] = location.hash.slice(1).split("/");
  if (!VIEWS[name] || (name === "watch" && !/^[1-9]\d*$/.test(id || ""))) name = "catalog";
  if (VIEWS[name].signedIn && !signedIn()) {
    notify("Sign in first.");
    name = "catalog";
  }
  // Another view, or the same view of another video: what the last one started ends.
  if (current && current !== `${name}/${id}` && VIEWS[current.split("/")[0]].leave) {
    VIEWS[current.split("/")[0]].leave();
  }
  current = `${name}/${id}`;
  for (const section of document.querySelectorAll("section[data-view]")) section.hidden = section.id !== name;
  for (const link of document.querySelectorAll("#nav a")) {
    link.toggleAttribute("aria-current", link.hash === `#${name}`);
  }
  VIEWS[name].load(id).catch((error) => notify(error.message));
  // A keyboard or screen-reader user lands where the new view starts, not on the old link.
  if (event) focusHeading(document.getElementById(name));
}

function focusHeading(section) {
  const heading = section.querySelector("h2");
  heading.tabIndex = -1;
  heading.focus();
}

window.addEventListener("hashchange", route);
showAccount();
route();
// The video page shows over the catalog's place; the grid is there when the viewer comes back.
if (!current.startsWith("catalog/")) loadVideos().catch((error) => notify(error.message));
