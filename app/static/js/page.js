/* The page as a whole: its language, controls, the operation it shows, and which view is on.
   Every change of round, type, view or operation goes through here, so that the map,
   legend, panel and URL follow together. */
import { api } from "./api.js";
import { TYPES } from "./constants.js";
import { $, clearError, el, option, safeHref, setStatus, showError } from "./dom.js";
import { clearLayers, ctx, goHome, mapReady, placeControls, relabel, showLabels, showOutline } from "./mapview.js";
import { fillDatalist, forgetMuhallaNames } from "./names.js";
import {
  chooseDefaults, levelLabel, levelOptions, measures, opName, partialText, pickOperation, rated, roundLabel, viewLevel,
} from "./operation.js";
import { closeArea, openArea } from "./panel.js";
import { data, setLang, state, writeUrl } from "./store.js";
import { fmtDate, isolate, name, t } from "./text.js";
import { followRound, renderTimeline } from "./timeline.js";
import { moveChartCursor, renderChart, renderNational } from "./views/map.js";
import { VIEWS, viewOf } from "./views/index.js";

// --- language ----------------------------------------------------------------------

export function applyLang() {
  document.documentElement.lang = state.lang;
  document.documentElement.dir = state.lang === "ar" ? "rtl" : "ltr";
  document.title = t("title", { op: opName() });
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n, { op: opName() });
  for (const node of document.querySelectorAll("[data-i18n-aria]")) node.setAttribute("aria-label", t(node.dataset.i18nAria));
  const lang = $("lang");
  lang.textContent = t("lang_switch");
  lang.setAttribute("lang", state.lang === "ar" ? "en" : "ar");
  // its name is its visible text, in its own language (WCAG 2.5.3); the hint in ours
  lang.setAttribute("title", t("lang_switch_label"));
  $("map").setAttribute("aria-label", t("map_label", { op: opName() }));
  // the upload page in the same language, for the same operation
  $("to-upload").setAttribute("href", `/upload?lang=${state.lang}` + (data.op && !data.op.default ? `&op=${encodeURIComponent(data.op.operation)}` : ""));
  relabel();
  if (ctx.staticMap) $("nowebgl").textContent = t("no_webgl");
}

export function switchLang() {
  setLang(state.lang === "ar" ? "en" : "ar");
  renderAll();
}

// the date of the operation's newest data and its source (GET /api/v1/sources)
async function renderAsOf() {
  const box = $("as-of"), op = data.op, lang = state.lang;
  let asOf = null;
  try { asOf = ((await api("/api/v1/sources")).data_as_of || {})[op.operation] || null; } catch (_) { asOf = null; }
  if (data.op !== op || state.lang !== lang) return;
  box.textContent = asOf ? t("data_as_of", { date: fmtDate(asOf.date), round: isolate(roundLabel(asOf.round)), source: isolate(asOf.source) }) : "";
  box.dataset.date = asOf ? asOf.date : "";
  box.hidden = !asOf;
}

export function renderAll() {
  applyLang();
  renderAsOf();
  placeControls();
  fillSelects();
  renderRoundInfo();
  renderNational();
  renderChart();
  fillDatalist();
  if (state.area) openArea(state.area, false);
  renderView();
  writeUrl();
}

// --- controls ----------------------------------------------------------------------

function fillSelects() {
  const round = $("round");
  round.replaceChildren();
  const groups = { mobility_tracking: el("optgroup", { label: t("mobility") }), flash_update: el("optgroup", { label: t("flash") }) };
  for (const r of data.rounds) {
    const partial = partialText(r.code, state.type, viewLevel());
    const label = (r.number ? "R" + r.number + " · " : "") + fmtDate(r.reporting_date || r.collection_end) + (partial ? " · " + partial : "");
    (groups[r.kind] || groups.mobility_tracking).append(option(r.code, label, r.code === state.round));
  }
  round.append(groups.mobility_tracking, groups.flash_update);
  const present = (data.byCode[state.round] || {}).population_types || [];
  $("ptype").replaceChildren(...TYPES.map((ty) => option(ty, t(ty), ty === state.type, present.length && !present.includes(ty))));
  $("measure").replaceChildren(...measures().map((m) => option(m, t(m), m === state.measure)));
  $("level").replaceChildren(...levelOptions().map((o) => option(o.value, levelLabel(o), o.value === state.level)));
  $("op").replaceChildren(...data.ops.map((o) => option(o.operation, name(o), o === data.op)));
  for (const v of VIEWS) document.querySelector(`[data-view="${v.id}"]`).hidden = v.available ? !v.available() : false;
  $("hs-metric").replaceChildren(...(rated() ? ["count", "rate"] : ["count"]).map((m) => option(m, t(m), m === state.hsMetric)));
}

function renderRoundInfo() {
  const r = data.byCode[state.round];
  if (!r) return;
  const info = $("round-info");
  info.replaceChildren(
    el("span", { text: r.title }), el("br"),
    el("span", { text: t("reported") + ": " + fmtDate(r.reporting_date || r.collection_end) + " · " + t("source") + ": " }),
    safeHref(r.source_url) ? el("a", { href: r.source_url, rel: "noopener", text: r.source }) : el("span", { text: r.source || "" })
  );
}

// --- views ---------------------------------------------------------------------------

export function currentView() { return viewOf(state.view); }

export function setView(id) {
  const before = currentView(), next = viewOf(id);
  if (before !== next) before.leave();
  state.view = next.id;
  if (before !== next) next.enter();
  renderView();
  writeUrl();
}

export function renderView() {
  showView(false);
}

function showView(step) {
  const view = currentView();
  for (const b of document.querySelectorAll("[data-view]")) b.setAttribute("aria-pressed", String(b.dataset.view === view.id));
  if (!step) renderTimeline();
  for (const v of VIEWS) $("view-" + v.id).hidden = v !== view;
  document.body.dataset.mode = view.id;
  if (!mapReady()) return;
  if (ctx.popup) ctx.popup.remove();
  clearError($("view-" + view.id));
  // every view says a failed request the same way: a message in its panel
  Promise.resolve().then(() => (step && view.step ? view.step() : view.render())).catch((err) => showError($("view-" + view.id), err, t));
}

/** After the round or population type changed: everything that shows them. */
export function onRoundChange() {
  chooseDefaults();
  fillSelects();
  renderRoundInfo();
  renderNational();
  renderChart();
  followRound();
  if (state.area) openArea(state.area, false);
  renderView();
  writeUrl();
}

/** The slider's change of round: what shows the round follows, as for the round select,
    without rebuilding what stays (the controls, the chart, the areas drawn). */
export function onRoundStep() {
  const type = state.type, shown = data.byCode[$("round").value] || {};  // the select's, until now
  chooseDefaults();
  if (state.type !== type) { onRoundChange(); return; }  // the round has no figures of the type
  if (String(data.byCode[state.round].population_types) !== String(shown.population_types)) fillSelects();
  else $("round").value = state.round;
  renderRoundInfo();
  renderNational();
  moveChartCursor();
  if (state.area) openArea(state.area, false);
  showView(true);
  writeUrl();
}

// --- the operation -------------------------------------------------------------------

// an operation's rounds, national series and first two levels of areas
export async function loadOperation() {
  const [rounds, ts, l1, l2] = await Promise.all([
    api("/api/v1/rounds"), api("/api/v1/stats/timeseries?level=0"), api("/api/v1/areas?level=1"), api("/api/v1/areas?level=2"),
  ]);
  data.rounds = rounds.data;  // in the service's time order
  data.latest = rounds.meta.latest;
  data.byCode = {};
  for (const r of data.rounds) data.byCode[r.code] = r;
  data.national = {};
  for (const s of ts.data) if (!s.displacement_reason) data.national[s.population_type] = s.points;
  data.areas = [...l1.data, ...l2.data];
  forgetMuhallaNames();
  chooseDefaults();
}

// another operation: its rounds, figures, legend, panel and names, the map fitted to it
export async function switchOperation(code) {
  const next = pickOperation(code);
  if (next === data.op) return;
  data.op = next;
  state.op = next.operation;
  Object.assign(state, { round: null, area: null, type: null });
  setStatus(t("loading"));
  closeArea();
  await loadOperation();
  if (ctx.map) {
    clearLayers();
    showOutline();
    showLabels();
    goHome();
  }
  renderAll();
  setStatus("");
  document.body.dataset.op = data.op.operation;
}
