/* The map view: the round's figures by area (choropleth, or circles for points), the
   operation's points level close up, and the national figures with their chart. */
import { api, opPath } from "../api.js";
import { EMPTY, MUHALLA_MAX_RADIUS, MUHALLA_ZOOM, NO_DATA, PLURAL, SERIES, TYPES } from "../constants.js";
import { $, el, setStatus } from "../dom.js";
import { classList, classesUrl, clearLayers, colourExpr, ctx, drawStatic, drawnValue, highlight, seriesClassesUrl, valueKey } from "../mapview.js";
import {
  credit, hasMuhallas, levelChoice, levelName, nationalValue, opName, partialNational, partialText, pointLevel,
  roundLabel, seriesRounds, viewLevel,
} from "../operation.js";
import { data, state } from "../store.js";
import { capital, fmt, fmtDate, locale, name, t } from "../text.js";

// the views that show the round's figures on the map (their own panel beside it)
const DRAWS_FIGURES = new Set(["map", "downloads"]);

export function statsUrl(round) {
  const c = levelChoice(), level = c.level;
  const geometry = c.kind === "approx" ? "&geometry=approximate" : "";
  return `/api/v1/stats?level=${level}&round=${encodeURIComponent(round ?? state.round)}&format=geojson${geometry}`;
}

// the areas a map of the view draws, whatever the round: while the source holds them, a
// change of round from the slider changes only their values (feature-state), not the data
function shape() { return data.op.operation + " " + statsUrl(""); }

// the view's classes: the series' own while the slider is the control (fixed across the
// rounds, so colours compare), else the round's (the static map is drawn with the same)
function viewClassesUrl() {
  if (state.classes === "series") return seriesClassesUrl(state.level, state.type, state.measure);
  return classesUrl(state.round, state.level, state.type, state.measure);
}

// the largest circle's value: the series' largest with fixed classes, else the round's
function largest(values, classes) {
  const last = classes.classes[classes.classes.length - 1];
  if (state.classes === "series" && last) return Math.max(1, last.to);
  return Math.max(1, ...values.filter((x) => x != null));
}

function radiusExpr(value, max) {
  return ["case", ["==", value, null], 2.5, ["interpolate", ["linear"], ["sqrt", value], 0, 2.5, Math.sqrt(max), 26]];
}

/** The round's figures by area on the map, with their legend. */
export async function drawStats() {
  const map = ctx.map;
  const url = statsUrl();
  setStatus(t("loading"));
  let fc, classes;
  try {
    [fc, classes] = await Promise.all([api(url), api(viewClassesUrl())]);
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
    map.getSource("points").setData(fc);
    map.setPaintProperty("points-circle", "circle-color", colour);
    map.setPaintProperty("points-circle", "circle-radius", radiusExpr(["get", key], largest(values, classes)));
  } else {
    map.getSource("stats").setData(fc);
    for (const id of ["stats-fill", "stats-fill-multi"]) map.setPaintProperty(id, "fill-color", colour);
    map.setPaintProperty("stats-line", "line-dasharray", kind === "approx" ? [2, 2] : [1, 0]);
    map.setPaintProperty("stats-line", "line-color", kind === "approx" ? "#666" : "#fff");
  }
  ctx.held = { shape: shape(), pcodes: fc.features.map((f) => f.properties.pcode).join(), painted: null };
  highlight();
  if (!window.dtmFirstMap) {
    map.once("idle", () => {  // time to first rendered map, read by bench/page_load.py
      if (map.queryRenderedFeatures({ layers: ["stats-fill", "stats-fill-multi", "points-circle"] }).length) window.dtmFirstMap = performance.now();
    });
  }
  renderLegend(fc.features.map((f) => f.properties), classes, kind);
  setStatus("");
  timeDrawn("data");
  await drawMuhallas();
}

// the time from the slider's change of round to the map's next 'idle' once that round is
// drawn (bench/slider.py reads window.dtmRoundTimes); `how`: new data or values' state
function timeDrawn(how) {
  const set = window.dtmRoundSet, round = state.round;
  document.body.dataset.drawnRound = round;  // the round whose figures the map now holds
  if (!set || set.round !== round) return;
  window.dtmRoundSet = null;
  const applied = performance.now() - set.at;  // the figures fetched (or ahead) and set
  ctx.map.once("idle", () => {
    window.dtmRoundTimes = window.dtmRoundTimes || [];
    window.dtmRoundTimes.push({ round, how, applied, ms: performance.now() - set.at });
  });
}

function renderLegend(areas, classes, kind, step = false) {
  const key = valueKey();
  const hasData = areas.some((p) => p[key] != null);
  const qualities = new Set(areas.map((p) => p.quality).filter(Boolean));
  const legend = $("legend");
  const title = t("legend_title", { type: t(state.type), measure: t(state.measure), round: roundLabel(state.round) });
  const partial = partialText(state.round, state.type, viewLevel());
  const same = [state.lang, state.type, state.measure, kind, key, JSON.stringify(classes), [...qualities].join(), hasData, !!partial].join("|");
  if (step && legend.dataset.same === same) {
    // the slider's next round under the same classes: only the round's own lines change
    // (the legend keeps its size, so the map is not fitted again)
    legend.querySelector("h3").textContent = title;
    if (partial) legend.querySelector("[data-testid=legend-partial]").textContent = partial + ". " + t("partial_note");
    return;
  }
  legend.dataset.same = same;
  legend.replaceChildren(el("h3", { text: title }));
  if (partial) legend.append(el("p", { class: "q partial", "data-testid": "legend-partial", text: partial + ". " + t("partial_note") }));
  if (!hasData) legend.append(el("p", { text: t("no_area_data", { type: t(state.type) }) }));
  if (hasData || (classes.rounds && classes.classes.length)) legend.append(classList(classes, state.measure === "per_1000" ? 1 : 0));
  if (classes.rounds) legend.append(el("p", { class: "q fixed", "data-testid": "legend-fixed", text: t("classes_fixed", { n: fmt(classes.rounds.length) }) }));
  legend.append(el("p", { class: "q", text: t("quality_published", { op: opName() }) + (qualities.has("modelled") ? " " + t("quality_modelled") : "") }));
  if (kind === "approx") legend.append(el("p", { class: "q approx", text: t("approx_note") }));
  if (kind === "points") legend.append(el("p", { class: "q", text: t("points_note") }));
  legend.append(el("div", { id: "legend-muhallas", class: "mh", hidden: "" }));
  legend.append(el("p", { class: "attr", text: credit() }));
}

// --- a change of round from the slider ---------------------------------------------------

// each round's figures by area as the map's GeoJSON gives them, without the geometry (the
// source keeps that): fetched once, kept small
const figures = new Map();
function roundFigures(code) {
  const url = opPath(statsUrl(code));
  if (!figures.has(url)) {
    const promise = fetch(url, { headers: { Accept: "application/json" } }).then(async (r) => {
      if (!r.ok) throw new Error(r.status + " " + url);
      const fc = await r.json();
      const areas = fc.features.map((f) => f.properties);
      return { areas, pcodes: areas.map((p) => p.pcode).join() };
    });
    figures.set(url, promise);
    promise.catch(() => figures.delete(url));
  }
  return figures.get(url);
}

/** Fetch a round's figures ahead of the slider. */
export function prefetchRound(code) { roundFigures(code).catch(() => {}); }

/** The slider's change of round: the areas drawn stay, their values (feature-state) and
    the legend change; anything else (another level, a first draw) is drawn anew. */
export async function stepStats() {
  const map = ctx.map, held = ctx.held;
  if (!map || !DRAWS_FIGURES.has(state.view) || !held || held.shape !== shape()) return drawStats();
  const round = state.round, view = [state.type, state.measure, state.level].join();
  let found, classes;
  try {
    [found, classes] = await Promise.all([roundFigures(round), api(viewClassesUrl())]);
  } catch (err) { setStatus(t("error", { msg: err.message })); return; }
  if (state.round !== round || [state.type, state.measure, state.level].join() !== view) return;  // a newer one
  if (ctx.held !== held || found.pcodes !== held.pcodes) return drawStats();
  const key = valueKey(), kind = levelChoice().kind, source = kind === "points" ? "points" : "stats";
  const value = ["feature-state", "value"];
  const painted = key + " " + JSON.stringify(classes.cuts);
  if (held.painted !== painted) {  // once per series of steps: colours from the values' state
    const colour = colourExpr(key, classes, value);
    if (kind === "points") {
      map.setPaintProperty("points-circle", "circle-color", colour);
      map.setPaintProperty("points-circle", "circle-radius", radiusExpr(value, largest([], classes)));
    } else for (const id of ["stats-fill", "stats-fill-multi"]) map.setPaintProperty(id, "fill-color", colour);
    held.painted = painted;
  }
  for (const p of found.areas) map.setFeatureState({ source, id: p.pcode }, { value: p[key] ?? null, round });
  held.round = round;
  renderLegend(found.areas, classes, kind, true);
  timeDrawn("state");
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
  if (!hasMuhallas(state.round)) {
    // already empty (a round after another without them): no reload of the source
    if (document.body.dataset.muhallas !== "0") source.setData(EMPTY);
    document.body.dataset.muhallas = "0";
    return;
  }
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
  return `${name(p)}: ${fmt(drawnValue(f), state.measure === "per_1000" ? 1 : 0)}`;
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
function chartX(r) { return Date.parse(r.reporting_date + "T00:00:00Z") / 1000; }
/** The chart's cursor on the round (a change of round from the slider). */
export function moveChartCursor() {
  const rounds = seriesRounds(), idx = rounds.findIndex((r) => r.code === state.round);
  if (chart && idx >= 0) chart.setCursor({ left: chart.valToPos(chartX(rounds[idx]), "x"), top: 10 });
}

export function renderChart() {
  const box = $("chart");
  const rounds = seriesRounds();
  const xs = rounds.map(chartX);
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
  step() { $("area").hidden = !state.area; return stepStats(); },
  hoverText: figureHover,
};
