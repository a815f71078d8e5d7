/* The map: MapLibre with the service's own tiles, GeoJSON and glyphs, or, without WebGL,
   the service's static SVG map of the same view. Views draw on it through these. */
import { EMPTY, FONT, GLYPHS, LABEL_ZOOMS, MUHALLA_ZOOM, NO_DATA, PLURAL, RTL_PLUGIN, SOUTH_EDGES, VIRIDIS } from "./constants.js";
import { $, el, esc, setStatus } from "./dom.js";
import { choiceOf, levelInfo, opBounds } from "./operation.js";
import { data, state } from "./store.js";
import { fmt, t } from "./text.js";

/** The map (null without WebGL), its popup, and the static map's last view. */
export const ctx = { map: null, popup: null, staticMap: false, staticArgs: null, held: null };

// Without WebGL (old hardware, remote desktops, locked-down machines) MapLibre cannot
// draw: the map area then shows the server's static SVG map of the same view.
export function webglAvailable() {
  try {
    const canvas = document.createElement("canvas");
    return !!(canvas.getContext("webgl2") || canvas.getContext("webgl"));
  } catch (_) { return false; }
}

// topmost first, as queryRenderedFeatures answers
const CLICK = ["muhalla-circle", "points-circle", "stats-fill", "stats-fill-multi"];
const HOVER = ["muhalla-circle", "points-circle", "flows-line", "stats-fill", "stats-fill-multi"];

/** Start the map; `on` has click(pcode), zoomend() and hoverText(feature) from the page. */
export function initMap(on) {
  // lazily: the plugin (44 KB gzipped) is fetched when the first right-to-left label is
  maplibregl.setRTLTextPlugin(RTL_PLUGIN, true).catch(() => {});
  const map = new maplibregl.Map({
    container: "map",
    style: {
      version: 8,
      glyphs: GLYPHS,
      sources: {},
      layers: [{ id: "sea", type: "background", paint: { "background-color": "#dfe9f0" } }],
    },
    bounds: opBounds(),
    fitBoundsOptions: { padding: 20 },
    attributionControl: false,
    dragRotate: false,
    pitchWithRotate: false,
  });
  ctx.map = map;
  map.touchZoomRotate.disableRotation();
  placeControls();
  ctx.popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false, maxWidth: "260px" });
  window.dtmMap = map;
  map.on("movestart", () => { if (!fitting) home = false; });
  const refit = () => requestAnimationFrame(() => { if (home) fitHome(); });
  new ResizeObserver(refit).observe($("legend"));
  new ResizeObserver(refit).observe(map.getContainer());
  return new Promise((resolve) => map.on("load", () => {
    map.addSource("stats", { type: "geojson", data: EMPTY, promoteId: "pcode" });
    map.addSource("flows", { type: "geojson", data: EMPTY });
    map.addSource("points", { type: "geojson", data: EMPTY, promoteId: "pcode" });
    map.addSource("muhallas", { type: "geojson", data: EMPTY, promoteId: "pcode" });
    map.addLayer({ id: "stats-fill", type: "fill", source: "stats", filter: ["==", ["geometry-type"], "Polygon"], paint: { "fill-color": NO_DATA, "fill-opacity": 0.9 } });
    map.addLayer({ id: "stats-fill-multi", type: "fill", source: "stats", filter: ["==", ["geometry-type"], "MultiPolygon"], paint: { "fill-color": NO_DATA, "fill-opacity": 0.9 } });
    map.addLayer({ id: "stats-line", type: "line", source: "stats", filter: ["!=", ["geometry-type"], "Point"], paint: { "line-color": "#ffffff", "line-width": 0.6 } });
    map.addLayer({ id: "flows-line", type: "line", source: "flows", layout: { "line-cap": "round" }, paint: { "line-color": "#d55e00", "line-opacity": 0.75, "line-width": 2 } });
    map.addLayer({ id: "points-circle", type: "circle", source: "points", paint: { "circle-color": NO_DATA, "circle-radius": 4, "circle-stroke-color": "#333", "circle-stroke-width": 0.7, "circle-opacity": 0.9 } });
    map.addLayer({ id: "muhalla-circle", type: "circle", source: "muhallas", minzoom: MUHALLA_ZOOM, paint: { "circle-color": NO_DATA, "circle-radius": 3, "circle-stroke-color": "#333", "circle-stroke-width": 0.8, "circle-opacity": 0.85 } });
    map.addLayer({ id: "selected-line", type: "line", source: "stats", filter: ["==", ["get", "pcode"], ""], paint: { "line-color": "#000", "line-width": 3 } });
    map.addLayer({ id: "selected-point", type: "circle", source: "points", filter: ["==", ["get", "pcode"], ""], paint: { "circle-color": "rgba(0,0,0,0)", "circle-radius": 10, "circle-stroke-color": "#000", "circle-stroke-width": 3 } });
    map.addLayer({ id: "selected-muhalla", type: "circle", source: "muhallas", minzoom: MUHALLA_ZOOM, filter: ["==", ["get", "pcode"], ""], paint: { "circle-color": "rgba(0,0,0,0)", "circle-radius": 9, "circle-stroke-color": "#000", "circle-stroke-width": 3 } });
    showLabels();
    showOutline();
    // one handler for every layer, so that the topmost feature wins (a muhalla over its
    // baladiya) instead of whichever layer's handler happens to run last
    map.on("mousemove", (e) => hover(e, map.queryRenderedFeatures(e.point, { layers: HOVER })[0], on.hoverText));
    map.on("mouseout", () => hover(null, null));
    map.on("click", (e) => {
      const f = map.queryRenderedFeatures(e.point, { layers: CLICK })[0];
      if (f && f.properties.pcode && f.properties.pcode.length >= 6) on.click(f.properties.pcode);
    });
    map.on("zoomend", on.zoomend);
    resolve();
  }));
}

export function mapReady() { return ctx.map ? !!ctx.map.getSource("stats") : ctx.staticMap; }

// the operation's level-1 areas as land and lines (the tile layer the API names)
export function showOutline() {
  const map = ctx.map;
  if (!map || !map.getLayer("stats-fill")) return;
  const id = data.op && data.op.map ? data.op.map.outline : null;
  for (const l of ["land", "admin1-line"]) if (map.getLayer(l)) map.removeLayer(l);
  if (map.getSource("outline")) map.removeSource("outline");
  if (!id) return;
  map.addSource("outline", { type: "vector", url: `${location.origin}/ogc/tiles/${encodeURIComponent(id)}/tilejson.json`, attribution: "" });
  map.addLayer({ id: "land", type: "fill", source: "outline", "source-layer": id, paint: { "fill-color": "#fbfaf7" } }, "stats-fill");
  map.addLayer({ id: "admin1-line", type: "line", source: "outline", "source-layer": id, paint: { "line-color": "#555", "line-width": 1 } }, "flows-line");
}

// --- place names ---------------------------------------------------------------------

// the page's language picks the name (an area without an Arabic name keeps its English one)
function labelText() {
  return state.lang === "ar" ? ["coalesce", ["get", "name_ar"], ["get", "name_en"]] : ["get", "name_en"];
}
export function relabel() {
  const map = ctx.map;
  if (!map || !map.getLayer("label-admin1")) return;
  for (const level of [1, 2, 3]) {
    const id = "label-admin" + level, point = levelInfo(level).geometry === "point";
    map.setLayoutProperty(id, "text-field", labelText());
    // a name beside its point (muhallas, baladiyas' circles), not over it
    map.setLayoutProperty(id, "text-variable-anchor", point ? ["top", "bottom", "left", "right"] : ["center"]);
    map.setLayoutProperty(id, "text-radial-offset", point ? 0.7 : 0);
  }
}
// the names' source and layers, made anew for each operation: a symbol layer's source
// given new data while the camera jumps to another country answers queries of the drawn
// map from its old tiles (seen with MapLibre 5.24.1: queryRenderedFeatures throws "Out of
// bounds" on the label layers until the page is reloaded)
export function showLabels() {
  const map = ctx.map;
  for (const level of [1, 2, 3]) if (map.getLayer("label-admin" + level)) map.removeLayer("label-admin" + level);
  if (map.getSource("labels")) map.removeSource("labels");
  map.addSource("labels", { type: "geojson", data: EMPTY });
  // names: the first level above the others (placed first, so it wins a collision)
  for (const level of [3, 2, 1]) {
    const [minzoom, maxzoom] = LABEL_ZOOMS[level];
    map.addLayer({
      id: "label-admin" + level, type: "symbol", source: "labels", minzoom, maxzoom,
      filter: ["==", ["get", "level"], level],
      layout: {
        "text-field": labelText(), "text-font": FONT, "text-size": { 1: 13, 2: 11.5, 3: 10.5 }[level],
        "text-max-width": 10, "text-padding": 3, "text-allow-overlap": false,
        "text-letter-spacing": level === 1 ? 0.04 : 0,
      },
      paint: {
        "text-color": level === 1 ? "#1a1a1a" : "#333", "text-halo-color": "rgba(255,255,255,0.92)",
        "text-halo-width": 1.6, "text-halo-blur": 0.3,
      },
    });
  }
  relabel();
  setLabels();
}

// the areas' label points (the API's lon/lat: a point on the area's surface)
export function setLabels() {
  const map = ctx.map;
  if (!map || !map.getSource("labels")) return;
  const features = data.areas.filter((a) => a.lon != null && a.level >= 1 && a.level <= 3).map((a) => ({
    type: "Feature", geometry: { type: "Point", coordinates: [a.lon, a.lat] },
    properties: { pcode: a.pcode, level: a.level, name_en: a.name_en, name_ar: a.name_ar || null },
  }));
  map.getSource("labels").setData({ type: "FeatureCollection", features });
}

let controls = [];
export function placeControls() {  // zoom on the side away from the panel, mirrored in Arabic;
  const map = ctx.map;
  if (!map) return;  // the scale bottom right, clear of the legend (bottom left in both)
  for (const c of controls) map.removeControl(c);
  const side = state.lang === "ar" ? "left" : "right";
  controls = [new maplibregl.NavigationControl({ showCompass: false }), new maplibregl.ScaleControl()];
  map.addControl(controls[0], "top-" + side);
  map.addControl(controls[1], "bottom-right");
}

// --- the whole country in view, clear of the legend -----------------------------------

let home = true, fitting = false;  // home: the camera is still the one fitHome chose

function projector(cam, w, h) {  // screen x/y of lon/lat (and back) for a camera
  const size = 512 * 2 ** cam.zoom, c = maplibregl.LngLat.convert(cam.center);
  const mx = (lon) => ((lon + 180) / 360) * size;
  const my = (lat) => (0.5 - Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360)) / (2 * Math.PI)) * size;
  return {
    x: (lon) => w / 2 + mx(lon) - mx(c.lng),
    y: (lat) => h / 2 + my(lat) - my(c.lat),
    lon: (x) => ((x - w / 2 + mx(c.lng)) / size) * 360 - 180,
  };
}

function southEdge() {  // the outline's own, or the bounds' southern side
  const known = data.op && data.op.map && SOUTH_EDGES[data.op.map.outline];
  const b = opBounds();
  return known || { from: b[0][0], step: b[1][0] - b[0][0], lat: [b[0][1]] };
}

function legendCovers(cam, w, h, rect) {  // does the legend hide any of the country?
  const p = projector(cam, w, h), edge = southEdge();
  const west = p.lon(rect.left), east = p.lon(rect.right);
  let lowest = Infinity;  // the southernmost land under the legend's width
  edge.lat.forEach((lat, i) => {
    const a = edge.from + i * edge.step;
    if (a < east && a + edge.step > west) lowest = Math.min(lowest, lat);
  });
  return lowest !== Infinity && p.y(lowest) > rect.top - 6;
}

/** Fit the country again (another operation), as on the first load. */
export function goHome() { home = true; fitHome(); }

// Fit the operation's country in the map; on a desktop, where the legend floats over the
// map's bottom-left corner, slide the country away from it (within the spare width) and,
// if that is not enough, shrink it from below, until the legend covers only neighbours.
function fitHome() {
  const map = ctx.map;
  const BOUNDS = opBounds();
  const box = map.getContainer(), legend = $("legend");
  const w = box.clientWidth, h = box.clientHeight;
  if (!w || !h) return;
  const canvas = map.getCanvas();
  if (canvas.clientWidth !== w || canvas.clientHeight !== h) map.resize();
  // clear of the zoom buttons (top right, top left in Arabic) and the scale (bottom right)
  const pad = { top: 20, bottom: 20, left: 20, right: 20 };
  pad[state.lang === "ar" ? "left" : "right"] = 50;
  if (w < 700) pad.bottom = 36;  // on a phone the scale sits on the country's south-east
  let cam = map.cameraForBounds(BOUNDS, { padding: pad });
  if (getComputedStyle(legend).position === "absolute" && legend.offsetHeight) {
    const m = box.getBoundingClientRect(), l = legend.getBoundingClientRect();
    const rect = { left: l.left - m.left, right: l.right - m.left, top: l.top - m.top };
    search: for (let below = 0; below < h - 100; below += 8) {
      const base = map.cameraForBounds(BOUNDS, { padding: { ...pad, bottom: pad.bottom + below } });
      const p = projector(base, w, h);
      const spare = Math.max(0, w - pad.left - pad.right - (p.x(BOUNDS[1][0]) - p.x(BOUNDS[0][0])));
      for (let shift = 0; shift <= spare + 8; shift += 8) {
        const c = map.cameraForBounds(BOUNDS, { padding: { ...pad, bottom: pad.bottom + below, left: pad.left + Math.min(shift, spare) } });
        if (c && !legendCovers(c, w, h, rect)) { cam = c; break search; }
      }
    }
  }
  fitting = true;
  map.jumpTo(cam);
  fitting = false;
}

function hover(e, f, hoverText) {
  const map = ctx.map;
  map.getCanvas().style.cursor = f && f.layer.id !== "flows-line" ? "pointer" : "";
  if (!f) { ctx.popup.remove(); return; }
  const text = hoverText(f);
  ctx.popup.setLngLat(e.lngLat).setHTML(`<span dir="auto">${esc(text)}</span>`).addTo(map);
}

// --- figures on the map ------------------------------------------------------------------

export function valueKey() { return PLURAL[state.type] + (state.measure === "per_1000" ? "_per_1000" : ""); }

// the classes of a view come from the server (app/maps/classes.py), which draws the
// static map with the same ones
export function classesUrl(round, level, type, measure) {
  const lv = choiceOf(level).level;
  return `/api/v1/maps/${encodeURIComponent(round)}/classes?level=${lv}&population_type=${type}&measure=${measure}`;
}

// the classes of every mobility-tracking round of the operation together (the slider's)
export function seriesClassesUrl(level, type, measure) {
  return `/api/v1/maps/classes?level=${choiceOf(level).level}&population_type=${type}&measure=${measure}`;
}

/** A MapLibre colour expression for the server's classes of a property (or of `value`,
    an expression of it: the slider's values are the features' state). */
export function colourExpr(key, classes, value = ["get", key]) {
  const colours = classes.classes.map((c) => c.colour);
  if (!classes.cuts.length) return ["case", ["==", value, null], classes.no_data, colours[0] || VIRIDIS[2]];
  const step = ["step", value, colours[0]];
  classes.cuts.forEach((c, i) => step.push(c, colours[i + 1]));
  return ["case", ["==", value, null], classes.no_data, step];
}

/** The legend's list of the server's classes, and the no-figure swatch. */
export function classList(classes, digits) {
  const ul = el("ul", { class: "classes cols" });
  for (const c of classes.classes) {
    ul.append(el("li", {}, el("span", { class: "sw", style: `background:${c.colour}` }), el("span", { text: `${fmt(c.from, digits)} – ${fmt(c.to, digits)}` })));
  }
  ul.append(el("li", {}, el("span", { class: "sw", style: `background:${classes.no_data}` }), el("span", { text: classes.no_data_label || t("no_data") })));
  return ul;
}

/** The figure a feature is drawn with: its state's while the slider sets the values. */
export function drawnValue(f) {
  const held = ctx.held;
  if (held && held.round && f.state && f.state.round === held.round) return f.state.value;
  return f.properties[valueKey()];
}

export function clearLayers() {
  const map = ctx.map;
  if (!map) return;
  ctx.held = null;  // the figures' source holds no areas of a view
  for (const s of ["stats", "points", "flows", "muhallas"]) map.getSource(s).setData(EMPTY);
  document.body.dataset.muhallas = "0";
  document.body.dataset.flows = "0";
}

export function highlight() {
  const map = ctx.map;
  if (!map || !map.getLayer("selected-line")) return;
  const f = ["==", ["get", "pcode"], state.area || ""];
  map.setFilter("selected-line", f);
  map.setFilter("selected-point", f);
  map.setFilter("selected-muhalla", f);
}

// --- the static map (no WebGL) ---------------------------------------------------------

export function initStatic() {
  ctx.staticMap = true;
  document.body.dataset.webgl = "0";
  $("map").replaceChildren(
    el("p", { id: "nowebgl", class: "nowebgl", role: "note", text: t("no_webgl") }),
    el("div", { id: "static-map", class: "static-map", role: "img" }));
}

export function staticMapUrl(round, level, type, measure, w, h) {
  const c = choiceOf(level), lv = c.level, geometry = c.kind === "approx" ? "approximate" : "official";
  return `/api/v1/maps/${encodeURIComponent(round)}.svg?level=${lv}&geometry=${geometry}&population_type=${type}` +
    `&measure=${measure}&lang=${state.lang}&width=${w}&height=${h}` + (state.classes === "series" ? "&classes=series" : "");
}

export async function drawStatic(round, level, type, measure) {
  ctx.staticArgs = [round, level, type, measure];
  const box = $("static-map");
  const size = (n, fallback) => Math.max(200, Math.min(4000, Math.round(n || fallback)));
  const w = size(box.clientWidth, 800);
  // a narrow map (a phone) is as tall as it needs: the legend goes under it (app/maps/svg.py)
  const h = w < 520 ? size(w * 0.85 + 230) : size(box.clientHeight, 560);
  const url = staticMapUrl(round, level, type, measure, w, h);
  let res;
  try { res = await fetch(url); } catch (err) { setStatus(t("error", { msg: err.message })); return; }
  if (!res.ok) { setStatus(t("error", { msg: res.status + " " + url })); return; }
  const svg = await res.text();
  if (ctx.staticArgs.join() !== [round, level, type, measure].join()) return;  // a newer view
  box.innerHTML = svg;  // drawn by the service, every text escaped there
  box.dataset.url = url;
  box.setAttribute("aria-label", (box.querySelector("svg > title") || {}).textContent || "");
  document.body.dataset.staticAreas = String(box.querySelectorAll("[data-pcode]").length);
}
