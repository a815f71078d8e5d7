/* Change: the change of a population's figures between two rounds by area (absolute or
   percent), coloured by the service's diverging classes centred on zero, an area with no
   figure in one of the rounds apart from zero; the largest increases and decreases. */
import { api } from "../api.js";
import { $, el, option, setStatus } from "../dom.js";
import { ctx } from "../mapview.js";
import { TYPES } from "../constants.js";
import { coverage, credit, levelChoice, levelName, roundLabel, viewLevel } from "../operation.js";
import { onRoundChange, renderView } from "../page.js";
import { openArea } from "../panel.js";
import { data, state, viewParam, writeUrl } from "../store.js";
import { fmt, fmtDate, name, t } from "../text.js";
import { drawLayer, stepExpr, swatch } from "../thematic.js";

viewParam("from", null);
viewParam("to", null);
viewParam("cmeasure", "absolute");
const TOP = 5;

// the rounds with figures of the type at the level the map shows, in time order
function comparable(type = state.type) {
  return data.rounds.filter((r) => { const c = coverage(r.code, type, viewLevel()); return c && c.areas > 0; });
}

// "to": the chosen round (the page's round by default); "from": the one before it
function chosenRounds(rounds) {
  const codes = rounds.map((r) => r.code);
  let to = codes.includes(state.to) ? state.to : codes.includes(state.round) ? state.round : codes[codes.length - 1];
  let from = codes.includes(state.from) && state.from !== to ? state.from : codes[Math.max(0, codes.indexOf(to) - 1)];
  if (from === to) from = null;
  return { from, to };
}

function changeUrl(from, to) {
  const c = levelChoice();
  const geometry = c.kind === "approx" ? "&geometry=approximate" : "";
  return `/api/v1/stats/change?level=${c.level}&population_type=${state.type}&from_round=${encodeURIComponent(from)}` +
    `&to_round=${encodeURIComponent(to)}&top=${TOP}&format=geojson${geometry}`;
}

const signed = (v, digits) => (v > 0 ? "+" : "") + fmt(v, digits);
function key() { return state.cmeasure === "percent" ? "change_percent" : "change"; }
function digits() { return state.cmeasure === "percent" ? 1 : 0; }
function sayChange(p) {
  if (p.no_figure_in) return t("no_figure_" + p.no_figure_in, { from: roundLabel(p.from_round), to: roundLabel(p.to_round) });
  if (p.change_percent == null) return signed(p.change) + " · " + t("no_percent");
  return `${signed(p.change)} (${signed(p.change_percent, 1)}%)`;
}

function controls(rounds, from, to) {
  // a numbered round with its date; a flash update is named by its date already
  const label = (r) => roundLabel(r.code) + (r.number ? " · " + fmtDate(r.reporting_date || r.collection_end) : "");
  const pick = (id, chosen, onchange) => el("select", { id, onchange },
    ...rounds.map((r) => option(r.code, label(r), r.code === chosen)));
  const again = (patch) => { Object.assign(state, patch); writeUrl(); renderView(); };
  return el("div", { class: "change-controls" },
    el("div", { class: "field" }, el("label", { for: "change-from", text: t("change_from") }),
      pick("change-from", from, (e) => again({ from: e.target.value }))),
    el("div", { class: "field" }, el("label", { for: "change-to", text: t("change_to") }),
      pick("change-to", to, (e) => again({ to: e.target.value }))),
    el("div", { class: "field" }, el("label", { for: "change-measure", text: t("measure") }),
      el("select", { id: "change-measure", onchange: (e) => again({ cmeasure: e.target.value }) },
        ...["absolute", "percent"].map((m) => option(m, t("change_" + m), m === state.cmeasure)))));
}

function moverList(title, rows, testid) {
  const ul = el("ol", { class: "movers", "data-testid": testid });
  for (const r of rows) {
    ul.append(el("li", {}, el("button", {
      type: "button", class: "link", "data-pcode": r.pcode, "data-change": r.change,
      onclick: () => openArea(r.pcode, true), text: name(r),
    }), el("span", { class: "num", text: sayChange({ ...r, no_figure_in: null }) })));
  }
  return [el("h3", { text: title }), rows.length ? ul : el("p", { class: "meta", text: t("movers_none") })];
}

function legend(fc, from, to) {
  const classes = fc.classes[key()];
  const box = $("legend");
  const title = t("change_legend", { type: t(state.type), from: roundLabel(from), to: roundLabel(to), measure: t("change_" + state.cmeasure) });
  const ul = el("ul", { class: "classes", "data-testid": "change-classes" });
  const unit = state.cmeasure === "percent" ? "%" : "";
  for (const c of classes.classes) {
    const middle = c.from < 0 && c.to > 0;
    const text = middle ? t("change_little", { a: signed(c.from, digits()) + unit, b: signed(c.to, digits()) + unit })
      : `${signed(c.from, digits())}${unit} – ${signed(c.to, digits())}${unit}`;
    ul.append(swatch(c.colour, text, middle ? "change-zero" : null));
  }
  const props = fc.features.map((f) => f.properties);
  ul.append(swatch(classes.no_figure, t("no_figure"), "change-no-figure"));
  if (state.cmeasure === "percent" && props.some((p) => !p.no_figure_in && p.change_percent == null)) ul.append(swatch(classes.no_data, t("no_percent")));
  box.replaceChildren(...[el("h3", { text: title }),
    fc.compared ? ul : el("p", { "data-testid": "change-none", text: t("change_none_compared", { from: roundLabel(from), to: roundLabel(to) }) }),
    el("p", { class: "q", text: t("change_compared", { n: fmt(fc.compared), m: fmt(fc.areas) }) }),
    levelChoice().kind === "approx" ? el("p", { class: "q approx", text: t("approx_note") }) : null,
    el("p", { class: "attr", text: credit() })].filter(Boolean));
}

async function render() {
  const box = $("view-change");
  const rounds = comparable();
  const { from, to } = chosenRounds(rounds);
  if (!from || !to) {
    // the population types that can be compared here, one button each
    const others = TYPES.filter((ty) => ty !== state.type && comparable(ty).length > 1).map((ty) =>
      el("button", { type: "button", class: "link", onclick: () => { state.type = ty; onRoundChange(); }, text: t("show_type", { type: t(ty) }) }));
    box.replaceChildren(el("h2", { text: t("change_title") }),
      el("p", { "data-testid": "change-none", text: t("change_too_few", { type: t(state.type), areas: levelName(viewLevel(), true) }) }),
      ...others.map((b) => el("p", {}, b)));
    $("legend").replaceChildren();
    if (ctx.map) drawLayer({ type: "FeatureCollection", features: [] }, "#000");
    return;
  }
  setStatus(t("loading"));
  const fc = await api(changeUrl(from, to));
  setStatus("");
  if (state.view !== "change") return;
  data.change = fc;
  const value = ["get", key()];
  const colour = ["case", ["!=", ["get", "no_figure_in"], null], fc.classes[key()].no_figure,
    ["==", value, null], fc.classes[key()].no_data, stepExpr(value, fc.classes[key()])];
  // without WebGL the static map stays the figures' (it draws no change yet): said below
  if (ctx.map) drawLayer(fc, colour, levelChoice().kind === "approx");
  legend(fc, from, to);
  box.replaceChildren(...[el("h2", { text: t("change_title") }), controls(rounds, from, to),
    el("p", { class: "meta", text: t("change_about", { type: t(state.type), from: roundLabel(from), to: roundLabel(to) }) }),
    ctx.map ? null : el("p", { class: "meta", text: t("change_static") }),
    ...moverList(t("top_increases"), fc.top_increases, "top-increases"),
    ...moverList(t("top_decreases"), fc.top_decreases, "top-decreases")].filter(Boolean));
  box.dataset.from = from;
  box.dataset.to = to;
}

export default {
  id: "change",
  enter() {},
  leave() { data.change = null; },
  render() { $("area").hidden = !state.area; return render(); },
  hoverText(f) { return `${name(f.properties)}: ${sayChange(f.properties)}`; },
};
