/* Needs: a published indicator of the operation's round with indicators (shelter
   settings, priority needs, access to services) by area, coloured by the service's
   classes; the legend says its unit and round. */
import { api } from "../api.js";
import { $, el, option, setStatus } from "../dom.js";
import { ctx } from "../mapview.js";
import { credit, levelChoice, levelName, opName, roundLabel, viewLevel } from "../operation.js";
import { renderView } from "../page.js";
import { openArea } from "../panel.js";
import { indicatorLabel, indicatorList, keyOf, levelFor, sayValue, unitLabel } from "../indicators.js";
import { data, state, viewParam, writeUrl } from "../store.js";
import { fmt, isolate, name, t } from "../text.js";
import { drawLayer, stepExpr, swatch } from "../thematic.js";

viewParam("indicator", null);

// the default: IDP households in informal camps, else the first shelter setting, else the first
function chosen(list) {
  return list.find((k) => keyOf(k) === state.indicator)
    || list.find((k) => k.indicator === "in_informal_camp_setting_hh" && k.population_type === "idp")
    || list.find((k) => /shelter/i.test(k.topic)) || list[0];
}

function mapUrl(k, level) {
  const c = levelChoice();
  const geometry = c.kind === "approx" && level === c.level ? "&geometry=approximate" : "";
  const type = k.population_type ? `&population_type=${k.population_type}` : "";
  return `/api/v1/indicators?indicator=${encodeURIComponent(k.indicator)}${type}&level=${level}&format=geojson${geometry}`;
}

function picker(list, k) {
  const groups = new Map();
  for (const i of list) {
    if (!groups.has(i.topic)) groups.set(i.topic, el("optgroup", { label: i.topic }));
    groups.get(i.topic).append(option(keyOf(i), `${indicatorLabel(i)} (${unitLabel(i.unit)})`, i === k));
  }
  return el("div", { class: "field" }, el("label", { for: "indicator", text: t("indicator") }),
    el("select", { id: "indicator", onchange: (e) => { state.indicator = e.target.value; writeUrl(); renderView(); } }, ...groups.values()));
}

function colourOf(fc) {
  const c = fc.classes;
  if (c.method === "categorical") {
    const value = ["get", "text_value"];
    const match = c.categories.length ? ["match", value, ...c.categories.flatMap((x) => [x.value, x.colour]), c.other] : c.other;
    return ["case", ["==", value, null], c.no_data, match];
  }
  const value = ["get", "value"];
  return ["case", ["==", value, null], c.no_data, stepExpr(value, c)];
}

function legend(fc, k) {
  const c = fc.classes;
  const ul = el("ul", { class: "classes cols", "data-testid": "needs-classes" });
  const pct = k.unit === "flag" || (k.unit === "percent" && c.classes.length && c.classes[c.classes.length - 1].to <= 1);
  const say = (v) => (pct ? fmt(100 * v, 0) + "%" : fmt(v, 1));
  if (c.method === "categorical") for (const x of c.categories) ul.append(swatch(x.colour, x.value));
  else for (const x of c.classes) ul.append(swatch(x.colour, x.from === x.to ? say(x.from) : `${say(x.from)} – ${say(x.to)}`));
  if (c.method === "categorical") ul.append(swatch(c.other, t("other")));
  ul.append(swatch(c.no_data, t("no_data")));
  const unit = k.unit === "flag" ? t("unit_flag_map") : unitLabel(k.unit);
  $("legend").replaceChildren(...[
    el("h3", { "data-testid": "needs-legend-title", text: t("needs_legend", { indicator: isolate(indicatorLabel(k)), unit, round: roundLabel(fc.round) }) }),
    el("p", { class: "q", text: k.topic + (k.population_type ? " · " + t(k.population_type) : "") }),
    ul,
    el("p", { class: "q", text: t("needs_areas", { n: fmt(fc.with_value), m: fmt(fc.areas), areas: levelName(fc.level, true) }) }),
    levelChoice().kind === "approx" && fc.level === levelChoice().level ? el("p", { class: "q approx", text: t("approx_note") }) : null,
    el("p", { class: "attr", text: credit() })].filter(Boolean));
}

async function render() {
  const box = $("view-needs");
  const { round, list } = await indicatorList();
  if (state.view !== "needs") return;
  if (!list.length) {
    box.replaceChildren(el("h2", { text: t("needs_title") }), el("p", { "data-testid": "needs-none", text: t("needs_none", { op: opName() }) }));
    $("legend").replaceChildren();
    if (ctx.map) drawLayer({ type: "FeatureCollection", features: [] }, "#000");
    return;
  }
  const k = chosen(list);
  const level = levelFor(k, viewLevel());
  setStatus(t("loading"));
  const fc = await api(mapUrl(k, level));
  setStatus("");
  if (state.view !== "needs") return;
  data.needs = fc;
  if (ctx.map) drawLayer(fc, colourOf(fc), levelChoice().kind === "approx" && level === levelChoice().level);
  legend(fc, k);
  box.replaceChildren(...[el("h2", { text: t("needs_title") }), picker(list, k),
    el("p", { class: "meta", "data-testid": "needs-about", text: t("needs_about", { round: roundLabel(round), areas: levelName(level, true), unit: unitLabel(k.unit) }) }),
    k.unit === "households" || k.unit === "individuals" ? el("p", { class: "meta", text: t("needs_share") }) : null,
    ctx.map ? null : el("p", { class: "meta", text: t("needs_static") })].filter(Boolean));
  box.dataset.indicator = keyOf(k);
}

export default {
  id: "needs",
  enter() { if (state.area) openArea(state.area, false); },  // with the area's indicators
  leave() { data.needs = null; },
  render() { $("area").hidden = !state.area; return render(); },
  hoverText(f) {
    const p = f.properties;
    return `${name(p)}: ${sayValue(p)}`;
  },
};
