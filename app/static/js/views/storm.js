/* Storm Daniel (Libya, September 2023): the flash update's figures, the modelled and
   published flows from the affected baladiyas, and the timeline of what was reported. */
import { api } from "../api.js";
import { STORM_ROUND } from "../constants.js";
import { $, el, option, safeHref, showError } from "../dom.js";
import { clearLayers, ctx, drawStatic } from "../mapview.js";
import { credit } from "../operation.js";
import { data, state } from "../store.js";
import { fmt, fmtDate, name, t } from "../text.js";

let snapshot = STORM_ROUND;  // the flows' snapshot shown (a round of the event)

async function renderStorm() {
  const box = $("view-storm");
  const ev = data.storm || (data.storm = await api("/api/v1/events/storm-daniel-2023"));
  const snap = ev.snapshots.find((s) => s.round === snapshot) || ev.snapshots[ev.snapshots.length - 1];
  const withFlows = ev.snapshots.filter((s) => s.flows > 0);
  const headline = ev.snapshots.find((s) => s.round === STORM_ROUND);
  const parts = [el("h2", { text: t("storm_title") })];
  parts.push(el("p", { class: "big" }, el("strong", { "data-testid": "storm-total", text: fmt(headline.idps) }), " " + t("storm_headline")));
  parts.push(el("p", { class: "meta" }, t("source") + ": ", el("a", { href: headline.source_url, rel: "noopener", text: data.byCode[STORM_ROUND] ? data.byCode[STORM_ROUND].title : STORM_ROUND })));
  const sel = el("select", { id: "storm-round", onchange: (e) => { snapshot = e.target.value; renderStorm().catch((err) => showError(box, err, t)); } },
    ...withFlows.map((s) => option(s.round, fmtDate((data.byCode[s.round] || {}).reporting_date || (data.byCode[s.round] || {}).collection_end) + " · " + fmt(s.hosting_total), s.round === snap.round)));
  parts.push(el("div", { class: "field" }, el("label", { for: "storm-round", text: t("storm_snapshot") }), sel));
  parts.push(el("p", { class: "meta", text: t("storm_flows") }), el("p", { class: "meta", text: t("storm_model") }));
  if (snap.hosting.length) {
    parts.push(el("h3", { text: `${t("storm_hosting")} (${fmt(snap.hosting_total)})` }));
    const table = el("table", { class: "rounds" });
    for (const h of snap.hosting) table.append(el("tr", {}, el("td", { text: name(h) }), el("td", { text: fmt(h.individuals) }), el("td", { text: `${fmt(h.share_percent, 1)}%` }), el("td", { class: "meta", text: t(h.quality) })));
    parts.push(table);
  }
  parts.push(el("h3", { text: t("storm_timeline") }));
  const ol = el("ol", { class: "timeline" });
  for (const f of ev.timeline) {
    const where = f.name_en ? name(f) : f.geography;
    ol.append(el("li", {}, el("time", { datetime: f.period.split("/")[0], text: fmtDate(f.period.split("/")[0]) }), " ",
      el("strong", { text: fmt(f.value) }), ` ${f.metric.replaceAll("_", " ")} · ${where} `,
      safeHref(f.source_url) ? el("a", { href: f.source_url, rel: "noopener", text: t("source") }) : el("span", { class: "meta", text: f.source })));
  }
  parts.push(ol);
  box.replaceChildren(...parts);
  await drawStorm(snap);
}

async function drawStorm(snap) {
  const map = ctx.map;
  clearLayers();
  if (!map) { await drawStatic(snap.round, "2", "idp", "absolute"); return; }
  const fc = await api(`/api/v1/flows?round=${encodeURIComponent(snap.round)}&format=geojson`);
  if (state.view !== "storm") return;
  const lines = fc.features.filter((f) => !f.properties.internal);
  const max = Math.max(1, ...lines.map((f) => f.properties.individuals));
  map.getSource("flows").setData({ type: "FeatureCollection", features: lines });
  document.body.dataset.flows = String(lines.length);
  map.setPaintProperty("flows-line", "line-width", ["interpolate", ["linear"], ["get", "individuals"], 0, 1, max, 12]);
  map.setPaintProperty("flows-line", "line-color", ["match", ["get", "quality"], "published", "#0072B2", "#d55e00"]);
  map.setPaintProperty("flows-line", "line-dasharray", [1, 0]);
  const areas = await api("/api/v1/areas?level=2");
  const at = new Map(areas.data.map((a) => [a.pcode, a]));
  const hosting = snap.hosting.filter((h) => at.has(h.pcode)).map((h) => ({
    type: "Feature", geometry: { type: "Point", coordinates: [at.get(h.pcode).lon, at.get(h.pcode).lat] }, properties: h,
  }));
  const hmax = Math.max(1, ...snap.hosting.map((h) => h.individuals));
  map.getSource("points").setData({ type: "FeatureCollection", features: hosting });
  map.setPaintProperty("points-circle", "circle-color", ["match", ["get", "quality"], "published", "#56B4E9", "#F0E442"]);
  map.setPaintProperty("points-circle", "circle-radius", ["interpolate", ["linear"], ["sqrt", ["get", "individuals"]], 0, 3, Math.sqrt(hmax), 24]);
  const legend = $("legend");
  legend.replaceChildren(el("h3", { text: t("flows_legend", { round: fmtDate((data.byCode[snap.round] || {}).reporting_date) }) }),
    el("ul", { class: "classes" },
      el("li", {}, el("span", { class: "sw line", style: "background:#d55e00" }), el("span", { text: t("modelled") })),
      el("li", {}, el("span", { class: "sw line", style: "background:#0072B2" }), el("span", { text: t("published") })),
      el("li", {}, el("span", { class: "sw dot", style: "background:#F0E442" }), el("span", { text: `${t("hosting")} (${t("modelled")})` })),
      el("li", {}, el("span", { class: "sw dot", style: "background:#56B4E9" }), el("span", { text: `${t("hosting")} (${t("published")})` }))),
    el("p", { class: "q", text: t("storm_model") }),
    el("p", { class: "attr", text: credit() }));
  const xs = lines.flatMap((f) => f.geometry.coordinates.map((c) => c[0]));
  const ys = lines.flatMap((f) => f.geometry.coordinates.map((c) => c[1]));
  if (xs.length) map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { padding: 40, duration: 0 });
}

export default {
  id: "storm",
  available: () => !!data.byCode[STORM_ROUND],  // the storm's rounds are Libya's
  enter() {},
  leave() { if (ctx.map) ctx.map.setPaintProperty("flows-line", "line-width", 2); },
  render() { $("area").hidden = true; return renderStorm(); },
  hoverText(f) {
    const p = f.properties;
    if (f.layer.id === "flows-line") return `${name(p, "origin_")} → ${name(p, "destination_")}: ${fmt(p.individuals)} (${t(p.quality)})`;
    return `${name(p)}: ${fmt(p.individuals)} (${t(p.quality)})`;
  },
};
