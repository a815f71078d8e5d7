/* The map view: the round's figures by area (choropleth, or circles for points), the
   operation's points level close up, and the national figures with their chart. */
import { api } from "../api.js";
import { EMPTY, MUHALLA_MAX_RADIUS, MUHALLA_ZOOM, NO_DATA, PLURAL, SERIES, TYPES } from "../constants.js";
import { $, el, setStatus } from "../dom.js";
import { classList, classesUrl, clearLayers, colourExpr, ctx, drawStatic, highlight, valueKey } from "../mapview.js";
import {
  credit, hasMuhallas, levelChoice, levelName, nationalValue, opName, partialNational, partialText, pointLevel,
  roundLabel, seriesRounds, viewLevel,
} from "../operation.js";
import { data, state } from "../store.js";
import { capital, fmt, fmtDate, locale, name, t } from "../text.js";

// the views that show the round's figures on the map (their own panel beside it)
const DRAWS_FIGURES = new Set(["map", "downloads"]);

export function statsUrl() {
  const c = levelChoice(), level = c.level;
  const geometry = c.kind === "approx" ? "&geometry=approximate" : "";
  return `/api/v1/stats?level=${level}&round=${encodeURIComponent(state.round)}&format=geojson${geometry}`;
}

/** The round's figures by area on the map, with their legend. */
export async function drawStats() {
  const map = ctx.map;
  const url = statsUrl();
  setStatus(t("loading"));
  let fc, classes;
  try {
    [fc, classes] = await Promise.all([api(url), api(classesUrl(state.round, state.level, state.type, state.measure))]);
  } catch (err) { setStatus(t("error", { msg: err.message })); return; }
  if (!DRAWS_FIGURES.has(state.view)) return;
  data.stats = fc;
  if (!map) { await drawStatic(state.round, state.level, state.type, state.measure); setStatus(""); return; }
  map.setPaintProperty("flows-line", "line-width", 2);
  const key = valueKey();
  const values = fc.features.map((f) => f.properties[key]);
  const colour = colourExpr(key, classes);
  clearLayers();
  const kind = levelChoice().kind;
  if (kind === "points") {
    const max = Math.max(1, ...values.filter((x) => x != null));
    map.getSource("points").setData(fc);
    map.setPaintProperty("points-circle", "circle-color", colour);
    map.setPaintProperty("points-circle", "circle-radius", ["case", ["==", ["get", key], null], 2.5,
      ["interpolate", ["linear"], ["sqrt", ["get", key]], 0, 2.5, Math.sqrt(max), 26]]);
  } else {
    map.getSource("stats").setData(fc);
    for (const id of ["stats-fill", "stats-fill-multi"]) map.setPaintProperty(id, "fill-color", colour);
    map.setPaintProperty("stats-line", "line-dasharray", kind === "approx" ? [2, 2] : [1, 0]);
    map.setPaintProperty("stats-line", "line-color", kind === "approx" ? "#666" : "#fff");
  }
  highlight();
  if (!window.dtmFirstMap) {
    map.once("idle", () => {  // time to first rendered map, read by bench/page_load.py
      if (map.queryRenderedFeatures({ layers: ["stats-fill", "stats-fill-multi", "points-circle"] }).length) window.dtmFirstMap = performance.now();
    });
  }
  const hasData = values.some((x) => x != null);
  const qualities = new Set(fc.features.map((f) => f.properties.quality).filter(Boolean));
  const legend = $("legend");
  legend.replaceChildren(el("h3", { text: t("legend_title", { type: t(state.type), measure: t(state.measure), round: roundLabel(state.round) }) }));
  const partial = partialText(state.round, state.type, viewLevel());
  if (partial) legend.append(el("p", { class: "q partial", "data-testid": "legend-partial", text: partial + ". " + t("partial_note") }));
  if (!hasData) legend.append(el("p", { text: t("no_area_data", { type: t(state.type) }) }));
  else legend.append(classList(classes, state.measure === "per_1000" ? 1 : 0));
  legend.append(el("p", { class: "q", text: t("quality_published", { op: opName() }) + (qualities.has("modelled") ? " " + t("quality_modelled") : "") }));
  if (kind === "approx") legend.append(el("p", { class: "q approx", text: t("approx_note") }));
  if (kind === "points") legend.append(el("p", { class: "q", text: t("points_note") }));
  legend.append(el("div", { id: "legend-muhallas", class: "mh", hidden: "" }));
  legend.append(el("p", { class: "attr", text: credit() }));
  setStatus("");
  await drawMuhallas();
}

// --- the points level (Libya's muhallas, Iraq's locations) close up --------------------

function muhallaUrl(code) { return `/api/v1/stats?level=${pointLevel()}&round=${encodeURIComponent(code)}&format=geojson&limit=10000`; }
function niceBelow(x) {  // the largest 1, 2 or 5 x 10^k not above x
  const p = 10 ** Math.floor(Math.log10(x));
  return [5, 2, 1].map((m) => m * p).find((v) => v <= x) || p;
}

async function drawMuhallas() {
  const map = ctx.map;
  if (!map) return;
  const source = map.getSource("muhallas");
  // close up, the areas' colours give way to the muhalla points over them
  const opacity = hasMuhallas(state.round) ? ["interpolate", ["linear"], ["zoom"], MUHALLA_ZOOM - 1, 0.9, MUHALLA_ZOOM + 1, 0.5] : 0.9;
  for (const id of ["stats-fill", "stats-fill-multi"]) map.setPaintProperty(id, "fill-opacity", opacity);
  if (!hasMuhallas(state.round)) { source.setData(EMPTY); document.body.dataset.muhallas = "0"; return; }
  const round = state.round, type = state.type;
  let fc;
  try { fc = await api(muhallaUrl(round)); } catch (err) { setStatus(t("error", { msg: err.message })); return; }
  if (state.round !== round || state.type !== type || !DRAWS_FIGURES.has(state.view)) return;
  const key = PLURAL[type];
  const located = fc.features.filter((f) => f.geometry);  // 19 have no published location
  const values = located.map((f) => f.properties[key]).filter((v) => v != null);
  const max = Math.max(1, ...values);
  const v = ["get", key];
  source.setData({ type: "FeatureCollection", features: located });
  map.setPaintProperty("muhalla-circle", "circle-color", ["case", ["==", v, null], NO_DATA, [">", v, 0], SERIES[type], "#ffffff"]);
  const size = ["case", ["==", v, null], 2.5, [">", v, 0], ["interpolate", ["linear"], ["sqrt", v], 0, 3, Math.sqrt(max), MUHALLA_MAX_RADIUS], 2.5];
  map.setPaintProperty("muhalla-circle", "circle-radius", size);
  map.setPaintProperty("selected-muhalla", "circle-radius", ["+", size, 3]);
  document.body.dataset.muhallas = String(located.length);
  highlight();

  const box = $("legend-muhallas");
  if (!box) return;
  const radius = (x) => 3 + ((MUHALLA_MAX_RADIUS - 3) * Math.sqrt(x)) / Math.sqrt(max);
  const samples = [...new Set([niceBelow(max), niceBelow(max / 10), niceBelow(max / 100)])].filter((x) => x >= 1);
  const circle = (r, colour, label) => el("li", {},
    el("span", { class: "sw circ", style: `width:${2 * r}px;height:${2 * r}px;background:${colour}` }), el("span", { text: label }));
  const largest = located.reduce((a, f) => ((f.properties[key] || 0) > (a ? a.properties[key] || 0 : -1) ? f : a), null);
  box.replaceChildren(
    el("h4", { text: t("muhalla_legend", { areas: capital(levelName(pointLevel(), true)), type: t(type), round: roundLabel(round) }) }),
    el("p", { class: "q mh-zoom" }, t("muhalla_zoom", { n: fmt(located.length), areas: levelName(pointLevel(), true), level: pointLevel(), z: MUHALLA_ZOOM }) + " ",
      el("button", { type: "button", class: "link", onclick: () => zoomToMuhallas(largest), text: t("zoom_in") })),
    el("ul", { class: "classes sizes mh-detail" }, ...samples.map((x) => circle(radius(x), SERIES[type], fmt(x))),
      values.includes(0) ? circle(2.5, "#ffffff", fmt(0)) : null, values.length < located.length ? circle(2.5, NO_DATA, t("no_data")) : null),
    el("p", { class: "q mh-detail", text: t("muhalla_points", { areas: levelName(pointLevel(), true), n: fmt(fc.features.length - located.length) }) }));
  box.hidden = false;
  muhallaZoomNote();
}

export function muhallaZoomNote() {  // close up: the sizes; far out: how to see them
  const box = $("legend-muhallas");
  if (box && ctx.map) box.classList.toggle("far", ctx.map.getZoom() < MUHALLA_ZOOM);
}

function zoomToMuhallas(largest) {
  const map = ctx.map;
  const open = data.open && data.open.pcode === state.area && data.open.level >= 2 ? data.open : null;
  const at = open && open.lon != null ? [open.lon, open.lat] : largest ? largest.geometry.coordinates : map.getCenter();
  map.easeTo({ center: at, zoom: Math.max(map.getZoom(), MUHALLA_ZOOM + 1.5) });
}

/** A feature's figure as the hover says it (an area, or a point of the points level). */
export function figureHover(f) {
  const p = f.properties;
  if (f.layer.id === "muhalla-circle") return `${name(p)} (${name(p, "parent_")}): ${fmt(p[PLURAL[state.type]])} ${t(state.type)}`;
  return `${name(p)}: ${fmt(p[valueKey()], state.measure === "per_1000" ? 1 : 0)}`;
}

// --- national figures and chart ----------------------------------------------------

export function renderNational() {
  $("national-h").textContent = t("national_in", { op: opName(), round: roundLabel(state.round) });
  const dl = $("national");
  dl.replaceChildren();
  for (const ty of TYPES) {
    const v = nationalValue(ty, state.round);
    dl.append(el("div", { class: "fig" + (ty === state.type ? " on" : "") },
      el("dt", { text: t(ty) }),
      el("dd", { "data-testid": "national-" + ty, "data-value": v ?? "", text: fmt(v) }),
      partialNational(ty, state.round) ? el("small", { "data-testid": "national-partial-" + ty, text: t("partial_national") }) : null));
  }
}

let chart = null;
export function renderChart() {
  const box = $("chart");
  const rounds = seriesRounds();
  const xs = rounds.map((r) => Date.parse(r.reporting_date + "T00:00:00Z") / 1000);
  const ys = TYPES.map((ty) => rounds.map((r) => nationalValue(ty, r.code)));
  box.setAttribute("aria-label", t("chart_note"));
  if (chart) chart.destroy();
  const width = Math.max(260, box.clientWidth || 320);
  chart = new uPlot({
    width, height: 190,
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true } },
    axes: [
      { values: (u, vals) => vals.map((v) => new Intl.DateTimeFormat(locale(), { year: "numeric", timeZone: "UTC" }).format(new Date(v * 1000))) },
      { size: state.lang === "ar" ? 74 : 56, values: (u, vals) => vals.map((v) => new Intl.NumberFormat(locale(), { notation: "compact" }).format(v)) },
    ],
    series: [
      { value: (u, v) => (v == null ? "" : fmtDate(new Date(v * 1000).toISOString().slice(0, 10))) },
      ...TYPES.map((ty) => ({ label: t(ty), stroke: SERIES[ty], width: ty === state.type ? 3 : 1.5, spanGaps: true,
        points: { show: true, size: 5, fill: SERIES[ty] }, value: (u, v) => fmt(v) })),
    ],
  }, [xs, ...ys], box);
  const idx = rounds.findIndex((r) => r.code === state.round);
  if (idx >= 0) chart.setCursor({ left: chart.valToPos(xs[idx], "x"), top: 10 });
}

export default {
  id: "map",
  enter() {},
  leave() {},
  render() { $("area").hidden = !state.area; return drawStats(); },
  hoverText: figureHover,
};
