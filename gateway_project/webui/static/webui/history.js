// What the viewer watched and what each viewing cost: analytics' history beside the charges
// billing booked for each session.
import { api } from "./api.js";
import { $, clock, dollars, emptyRow, row } from "./ui.js";

export async function loadHistory() {
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
