/* DTM Geo web map: MapLibre + uPlot over the service's own API; English and Arabic.
   Start-up: the operations, the map (or the static map without WebGL), the first view,
   and the controls wired to the page. */
import { api } from "./api.js";
import { $, setStatus } from "./dom.js";
import { LABEL_ZOOMS } from "./constants.js";
import { ctx, drawStatic, initMap, initStatic, setLabels, webglAvailable } from "./mapview.js";
import { findArea, loadMuhallaNames } from "./names.js";
import { pickOperation } from "./operation.js";
import { applyLang, currentView, loadOperation, onRoundChange, renderAll, renderView, setView, switchLang, switchOperation } from "./page.js";
import { openArea } from "./panel.js";
import { data, state, writeUrl } from "./store.js";
import { t } from "./text.js";
import { renderChart, muhallaZoomNote, statsUrl } from "./views/map.js";

async function search(q) {
  q = q.trim();
  if (!q) return;
  const msg = $("search-msg");
  msg.textContent = "";
  const hit = await findArea(q);
  if (!hit) { msg.textContent = t("not_found", { q }); return; }
  if (state.view !== "map") setView("map");
  openArea(hit.pcode, true);
}

function wire() {
  $("lang").addEventListener("click", switchLang);
  for (const b of document.querySelectorAll("[data-view]")) b.addEventListener("click", () => setView(b.dataset.view));
  // a round chosen by name: its own classes again (the slider's are the series')
  $("round").addEventListener("change", (e) => { Object.assign(state, { round: e.target.value, classes: "round" }); onRoundChange(); });
  $("ptype").addEventListener("change", (e) => { state.type = e.target.value; onRoundChange(); });
  $("measure").addEventListener("change", (e) => { state.measure = e.target.value; renderView(); writeUrl(); });
  $("level").addEventListener("change", (e) => { state.level = e.target.value; renderView(); writeUrl(); });
  $("hs-metric").addEventListener("change", (e) => { state.hsMetric = e.target.value; renderView(); });
  $("op").addEventListener("change", (e) => switchOperation(e.target.value).catch((err) => setStatus(t("error", { msg: err.message }))));
  $("search-form").addEventListener("submit", (e) => { e.preventDefault(); search($("search").value); });
  $("search").addEventListener("focus", loadMuhallaNames);
  let timer;
  window.addEventListener("resize", () => {
    clearTimeout(timer);
    timer = setTimeout(() => { renderChart(); if (ctx.staticMap && ctx.staticArgs) drawStatic(...ctx.staticArgs); }, 200);
  });
}

function onZoomEnd() {
  muhallaZoomNote();
  if (ctx.map.getZoom() >= LABEL_ZOOMS[3][0] - 0.5) loadMuhallaNames();
}

async function main() {
  wire();
  data.ops = (await api("/api/v1/operations")).data;
  data.op = pickOperation(state.op);
  state.op = data.op.operation;
  applyLang();
  let ready = null;
  if (webglAvailable()) {
    try {  // WebGL there but unusable: the static map
      ready = initMap({ click: (pcode) => openArea(pcode, true), zoomend: onZoomEnd, hoverText: (f) => currentView().hoverText(f) });
    } catch (err) { ctx.map = null; }
  }
  if (!ready) { initStatic(); ready = Promise.resolve(); }
  await loadOperation();
  if (state.view === "map") api(statsUrl()).catch(() => {});  // fetch while the map starts
  await ready;
  setLabels();
  currentView().enter();
  renderAll();
  document.body.dataset.op = data.op.operation;
  document.body.dataset.ready = "1";
}

main().catch((err) => setStatus(t("error", { msg: err.message })));
