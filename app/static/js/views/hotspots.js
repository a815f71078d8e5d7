/* Hotspots: the service's Gi* classes of the round's figures (or rates), with its method. */
import { answer, opPath } from "../api.js";
import { HS } from "../constants.js";
import { $, el } from "../dom.js";
import { clearLayers, ctx, drawStatic } from "../mapview.js";
import { choiceOf, credit, levelOptions, roundLabel } from "../operation.js";
import { state } from "../store.js";
import { fmt, name, t } from "../text.js";

async function renderHotspots() {
  clearLayers();
  const map = ctx.map;
  const body = $("hs-body");
  const legend = $("legend");
  const title = t("hs_title", { type: t(state.type), round: roundLabel(state.round) });
  const url = `/api/v1/hotspots?round=${encodeURIComponent(state.round)}&population_type=${state.type}&metric=${state.hsMetric}&format=geojson`;
  // the service says when too few areas have figures (and how many are needed)
  const res = await answer(url);
  if (state.view !== "hotspots") return;
  const fc = res.body || {};
  if (!res.ok) {
    const why = fc.min_areas ? t("hs_none", { type: t(state.type), n: fmt(fc.areas), min: fmt(fc.min_areas) }) : t("error", { msg: fc.detail || res.status });
    body.replaceChildren(el("h2", { text: title }), el("p", { "data-testid": "hs-none", text: why }));
    legend.replaceChildren(el("h3", { text: title }), el("p", { text: why }));
    return;
  }
  if (map) {
    map.getSource("points").setData(fc);
    map.setPaintProperty("points-circle", "circle-color", ["match", ["get", "class"], ...HS.flat(), "#bbbbbb"]);
    map.setPaintProperty("points-circle", "circle-radius", ["match", ["get", "class"], "not significant", 4, 7]);
  } else drawStatic(state.round, (levelOptions().find((o) => o.kind === "points") || choiceOf("2")).value, state.type, "absolute");
  const p = fc.parameters, w = fc.weights;
  const weights = w.type === "knn" ? t("hs_knn", { k: w.k }) : w.type;
  const method = t("hs_method", { weights, perm: fmt(p.permutations), seed: p.seed });
  const counts = {};
  for (const f of fc.features) counts[f.properties.class] = (counts[f.properties.class] || 0) + 1;
  const ul = el("ul", { class: "classes" });
  for (const [cls, colour] of HS) ul.append(el("li", {}, el("span", { class: "sw dot", style: `background:${colour}` }), el("span", { text: `${t(cls)} (${fmt(counts[cls] || 0)})` })));
  legend.replaceChildren(el("h3", { text: title }), ul, el("p", { class: "q", "data-testid": "hs-method", text: method }), el("p", { class: "attr", text: credit() }));
  body.replaceChildren(el("h2", { text: title }), el("p", { text: method }),
    el("p", { class: "meta" }, el("a", { href: opPath(`/api/v1/hotspots?round=${encodeURIComponent(state.round)}&population_type=${state.type}&metric=${state.hsMetric}`), text: "JSON" })));
}

export default {
  id: "hotspots",
  enter() {},
  leave() {},
  render() { $("area").hidden = !state.area; return renderHotspots(); },
  hoverText(f) { const p = f.properties; return `${name(p)}: ${t(p.class)} (${fmt(p.value, 1)})`; },
};
