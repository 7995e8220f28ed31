// Insights, drawn with uPlot (vendored: deploy/vendor_npm.py): the uploader's videos side by
// side, and for staff the platform's figures per day, week or month from the period reports.
import { api, claims } from "./api.js";
import { $, clock, dollars, emptyRow, notify, row } from "./ui.js";

const VIEWS_COLOUR = "#1a57b5";
const REVENUE_COLOUR = "#2a8a3a";
const CHART_HEIGHT = 260;
// Views are counted: whole-number ticks only.
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 1e5, 1e6];
const charts = {};

export async function loadInsights() {
  const staff = Boolean(claims().is_staff);
  $("#platform-insights").hidden = !staff;
  await Promise.all([loadMyVideos(), staff ? loadPlatform() : null]);
}

async function loadMyVideos() {
  const query = new URLSearchParams({ uploadedBy: claims().user_id, limit: 100 });
  const mine = (await api("GET", `/api/videos?${query}`)).videos;
  let stats = [];
  if (mine.length) {
    const ids = mine.map((video) => video.id).join(",");
    stats = (await api("GET", `/api/analytics/cqrs/videos/stats?ids=${ids}`)).videos;
  }
  const titles = Object.fromEntries(mine.map((video) => [video.id, video.title]));
  const rows = stats.map((video) => row(
    titles[video.videoId] || video.title, String(video.totalViews), String(video.uniqueViewers),
    clock(video.totalWatchTime), dollars(video.revenue),
  ));
  $("#my-stats tbody").replaceChildren(...rows);
  if (!rows.length) $("#my-stats tbody").append(emptyRow("Upload a video in the Studio to see its figures.", 5));
  const labels = stats.map((video) => titles[video.videoId] || video.title);
  draw("my-chart", {
    labels,
    x: stats.map((_, index) => index),
    views: stats.map((video) => video.totalViews),
    revenue: stats.map((video) => video.revenue / 100),
    bars: true,
  });
}

async function loadPlatform() {
  const period = $("#report-period").value;
  const [dashboard, report] = await Promise.all([
    api("GET", "/api/analytics/dashboard"),
    api("GET", `/api/analytics/reports/${period}`),
  ]);
  $("#platform-totals").replaceChildren(...[
    ["Views", String(dashboard.totalViews)], ["Users", String(dashboard.totalUsers)],
    ["Watch time", clock(dashboard.totalWatchTime)], ["Revenue", dollars(dashboard.totalRevenue)],
  ].map(([name, value]) => {
    const box = document.createElement("div");
    box.append(Object.assign(document.createElement("dt"), { textContent: name }),
      Object.assign(document.createElement("dd"), { textContent: value }));
    return box;
  }));
  $("#platform-caption").textContent = `Views and revenue per ${period === "daily" ? "day" : period.replace("ly", "")},`
    + ` ${report.from} to ${report.to}: ${report.totals.views} views, ${dollars(report.totals.revenue)}.`;
  draw("platform-chart", {
    labels: report.rows.map((bucket) => bucket.period),
    x: report.rows.map((bucket) => Date.parse(`${bucket.start}T00:00:00Z`) / 1000),
    views: report.rows.map((bucket) => bucket.views),
    revenue: report.rows.map((bucket) => bucket.revenue / 100),
    bars: false,
  });
}

// Views on the left axis, revenue in dollars on the right. Per video the x axis is the video
// (bars, labelled by title); over a period it is time (lines).
function draw(id, { labels, x, views, revenue, bars }) {
  const box = $(`#${id}`);
  if (charts[id]) charts[id].destroy();
  box.setAttribute("aria-label", labels.map((label, i) => `${label}: ${views[i]} views, $${revenue[i].toFixed(2)}`).join("; "));
  const paths = bars ? uPlot.paths.bars({ size: [0.35, 60], align: -1 }) : undefined;
  const options = {
    width: box.clientWidth || 320,
    height: CHART_HEIGHT,
    scales: { x: { time: !bars, range: bars ? [-0.5, Math.max(labels.length - 0.5, 0.5)] : undefined },
      views: { range: (u, min, max) => [0, Math.max(1, max)] },
      revenue: { range: (u, min, max) => [0, Math.max(1, max)] } },
    axes: [
      bars ? { values: (u, splits) => splits.map((split) => labels[split] ?? ""), space: 60 } : {},
      { scale: "views", label: "views", stroke: VIEWS_COLOUR, incrs: COUNT_STEPS },
      { scale: "revenue", label: "revenue ($)", side: 1, stroke: REVENUE_COLOUR, grid: { show: false } },
    ],
    series: [
      { label: bars ? "video" : "period", value: (u, value) => (value === null ? "–" : labels[bars ? value : x.indexOf(value)] ?? "") },
      { label: "views", scale: "views", stroke: VIEWS_COLOUR, fill: bars ? VIEWS_COLOUR + "cc" : undefined, width: 2, paths },
      {
        label: "revenue ($)", scale: "revenue", stroke: REVENUE_COLOUR, width: 2,
        fill: bars ? REVENUE_COLOUR + "cc" : undefined,
        paths: bars ? uPlot.paths.bars({ size: [0.35, 60], align: 1 }) : undefined,
        value: (u, value) => (value === null ? "–" : `$${value.toFixed(2)}`),
      },
    ],
  };
  charts[id] = new uPlot(options, [x, views, revenue], box);
}

window.addEventListener("resize", () => {
  for (const [id, chart] of Object.entries(charts)) {
    chart.setSize({ width: $(`#${id}`).clientWidth || 320, height: CHART_HEIGHT });
  }
});

$("#report-period").onchange = () => loadPlatform().catch((error) => notify(error.message));
