/* The area panel: an area's figures in the round, its change, its rounds, its migrants'
   nationalities, the areas within it and its data as files. */
import { api, opPath } from "./api.js";
import { MUHALLA_ZOOM, PLURAL, TYPES } from "./constants.js";
import { $, el, showError } from "./dom.js";
import { ctx, highlight } from "./mapview.js";
import { approxLevel, hasMuhallas, levelName, partialText, pointLevel, roundLabel } from "./operation.js";
import { onRoundChange } from "./page.js";
import { data, state, writeUrl } from "./store.js";
import { capital, fmt, name, t } from "./text.js";
import { indicatorLabel, indicatorList, keyOf, sayValue } from "./indicators.js";

export async function openArea(pcode, fly) {
  state.area = pcode;
  writeUrl();
  const box = $("area");
  let area, series, figures, children;
  try {
    area = (await api(`/api/v1/areas/${encodeURIComponent(pcode)}`)).data;
    const lv = area.level;
    [series, figures, children] = await Promise.all([
      api(`/api/v1/stats/timeseries?level=${lv}&pcode=${pcode}`),
      api(`/api/v1/stats?level=${lv}&pcode=${pcode}&round=${encodeURIComponent(state.round)}&format=geojson`),
      lv < 3 ? api(`/api/v1/areas?parent=${pcode}&level=${lv + 1}`) : Promise.resolve({ data: [] }),
    ]);
  } catch (err) { showError(box, err, t); return; }
  if (state.area !== pcode) return;
  data.open = area;
  const props = (figures.features.find((f) => f.properties.pcode === pcode) || { properties: {} }).properties;
  const nats = data.byCode[state.round] && (data.byCode[state.round].population_types || []).includes("migrant") && area.level > 0
    ? await api(`/api/v1/nationalities?level=${area.level}&round=${encodeURIComponent(state.round)}&pcode=${pcode}`).catch(() => ({ data: [] }))
    : { data: [] };

  const parts = [];
  parts.push(el("div", { class: "areahead" },
    el("h2", { id: "area-name", text: name(area) }),
    el("button", { type: "button", class: "close", "aria-label": t("close"), text: "×", onclick: closeArea })));
  if (area.parent_pcode && area.parent_pcode !== data.op.operation) {
    const up = [el("button", { type: "button", class: "link", "data-testid": "area-parent", onclick: () => openArea(area.parent_pcode, true), text: name(area, "parent_") })];
    const baladiya = area.level >= 3 ? data.areas.find((a) => a.pcode === area.parent_pcode) : null;
    if (baladiya) {  // a muhalla: its baladiya, then the baladiya's mantika
      up[0].textContent += ` (${levelName(area.level - 1)})`;
      up.push(" · ", el("button", { type: "button", class: "link", onclick: () => openArea(baladiya.parent_pcode, true), text: `${name(baladiya, "parent_")} (${levelName(area.level - 2)})` }));
    }
    parts.push(el("p", { class: "meta" }, t("parent") + ": ", ...up));
  }
  if (area.level === pointLevel()) {
    const vars = { area: capital(levelName(area.level)), level: area.level };
    parts.push(el("p", { class: "meta", text: area.lon != null ? t("muhalla_note", vars) : t("muhalla_no_location", vars) }));
    const rounds = data.rounds.filter((r) => hasMuhallas(r.code));
    if (!hasMuhallas(state.round) && rounds.length) {
      const last = rounds[rounds.length - 1];
      parts.push(el("p", { class: "meta" }, t("muhalla_rounds", { areas: levelName(area.level, true), rounds: rounds.map((r) => roundLabel(r.code)).join(", ") }) + " ",
        el("button", { type: "button", class: "link", onclick: () => { state.round = last.code; onRoundChange(); }, text: t("show_round", { round: roundLabel(last.code) }) })));
    }
  }
  parts.push(el("h3", { text: t("this_round", { round: roundLabel(state.round) }) }));
  const partialHere = partialText(state.round, state.type, Math.max(1, Math.min(area.level, 3)));
  if (partialHere) parts.push(el("p", { class: "meta partial", "data-testid": "area-partial", text: partialHere + ". " + t("partial_note") }));
  const dl = el("dl", { class: "figures" });
  for (const ty of TYPES) {
    const v = props[PLURAL[ty]];
    dl.append(el("div", { class: "fig" + (ty === state.type ? " on" : "") }, el("dt", { text: t(ty) }),
      el("dd", { "data-testid": "area-" + ty, "data-value": v ?? "", text: fmt(v) }),
      props[PLURAL[ty] + "_per_1000"] != null ? el("small", { text: fmt(props[PLURAL[ty] + "_per_1000"], 1) + " / 1000" }) : null));
  }
  parts.push(dl);
  if (area.population && area.population.population) parts.push(el("p", { class: "meta", text: `${t("population")}: ${fmt(area.population.population)}` }));
  if (props.quality) parts.push(el("p", { class: "meta", text: `${t("quality")}: ${t(props.quality)}${area.level === approxLevel() ? " · " + t("approx_note") : ""}` }));

  // change since previous round, for the chosen type
  const own = series.data.filter((s) => s.pcode === pcode && s.population_type === state.type && !s.displacement_reason);
  const pts = own.length ? own[0].points : [];
  const i = pts.findIndex((p) => p.round_code === state.round);
  const prev = i > 0 ? pts[i - 1] : null;
  parts.push(el("h3", { text: t("change") + ` (${t(state.type)})` }));
  if (i > 0 && prev.individuals != null && pts[i].individuals != null) {
    const d = pts[i].individuals - prev.individuals;
    const pct = prev.individuals ? (100 * d) / prev.individuals : null;
    parts.push(el("p", { "data-testid": "area-change", text: `${d > 0 ? "+" : ""}${fmt(d)}${pct != null ? ` (${d > 0 ? "+" : ""}${fmt(pct, 1)}%)` : ""} ${t("since", { round: roundLabel(prev.round_code) })}` }));
  } else parts.push(el("p", { class: "meta", text: t("change_none") }));

  // figures across rounds
  const rows = new Map();
  for (const s of series.data.filter((s) => s.pcode === pcode && !s.displacement_reason)) {
    for (const p of s.points) {
      const row = rows.get(p.round_code) || { code: p.round_code, date: p.reporting_date };
      row[s.population_type] = p.individuals;
      rows.set(p.round_code, row);
    }
  }
  if (rows.size) {
    parts.push(el("h3", { text: t("across_rounds") }));
    const table = el("table", { class: "rounds" }, el("thead", {}, el("tr", {}, el("th", { text: t("round") }), ...TYPES.map((ty) => el("th", { text: t(ty) })))));
    const body = el("tbody");
    for (const row of rows.values()) {
      body.append(el("tr", { class: row.code === state.round ? "on" : null }, el("td", { text: roundLabel(row.code) }), ...TYPES.map((ty) => el("td", { text: fmt(row[ty]) }))));
    }
    table.append(body);
    parts.push(table);
  }

  // migrants by nationality
  if (nats.data.length) {
    parts.push(el("h3", { text: t("nationalities", { round: roundLabel(state.round) }) }));
    const ul = el("ul", { class: "nats" });
    for (const n of nats.data.filter((n) => n.pcode === pcode).slice(0, 8)) ul.append(el("li", {}, el("span", { text: (state.lang === "ar" && n.nationality_ar) || n.nationality }), el("span", { text: `${fmt(n.individuals)} (${fmt(n.share_percent, 1)}%)` })));
    parts.push(ul);
  }

  if (children.data.length) {
    const ul = el("ul", { class: "children" });
    for (const c of children.data) ul.append(el("li", {}, el("button", { type: "button", class: "link", onclick: () => openArea(c.pcode, true), text: name(c) })));
    if (area.level === 2) {  // muhallas: up to 39 in a baladiya, folded when many
      parts.push(el("details", { class: "children", open: children.data.length <= 12 ? "" : null },
        el("summary", { text: t("muhallas_within", { n: fmt(children.data.length) }) }), ul));
    } else parts.push(el("h3", { text: t("children") }), ul);
  }

  const q = opPath(`/api/v1/stats?level=${area.level}&pcode=${pcode}&round=${encodeURIComponent(state.round)}`);
  parts.push(el("p", { class: "links" }, t("as_data") + ": ",
    el("a", { href: q, text: "JSON" }), " · ", el("a", { href: q + "&format=csv", text: "CSV" }), " · ",
    el("a", { href: q + "&format=geojson", text: "GeoJSON" })));
  box.replaceChildren(...parts);
  box.hidden = false;
  box.dataset.pcode = pcode;
  highlight();
  areaIndicators(box, area).catch(() => {});  // a section of its own, when there are any
  const zoom = { 1: 5, 2: 6, 3: MUHALLA_ZOOM + 2 }[area.level] || 5;
  if (fly && ctx.map && area.lon != null) ctx.map.easeTo({ center: [area.lon, area.lat], zoom: Math.max(ctx.map.getZoom(), zoom) });
}

export function closeArea() {
  state.area = null;
  $("area").hidden = true;
  $("area").dataset.pcode = "";
  highlight();
  writeUrl();
}

// The area's published indicators (shelter settings, priority needs, access to services),
// each with its unit, when the round shown is the one that has them (or in the needs view),
// grouped by topic; the chosen indicator's topic open.
async function areaIndicators(box, area) {
  const { round, list } = await indicatorList();
  if (!list.length || (state.view !== "needs" && state.round !== round)) return;
  const codes = [...new Set(list.map((k) => k.indicator))].join(",");
  const answer = await api(`/api/v1/indicators?round=${encodeURIComponent(round)}&level=${area.level}&pcode=${encodeURIComponent(area.pcode)}&indicator=${codes}`);
  const rows = answer.data.filter((r) => r.pcode === area.pcode);
  if (state.area !== area.pcode || box.dataset.pcode !== area.pcode || !rows.length) return;
  const topics = new Map();
  for (const r of rows) {
    if (!topics.has(r.topic)) topics.set(r.topic, []);
    topics.get(r.topic).push(r);
  }
  // the needs view's indicator (the one asked, else the one it chose) opens its topic, first
  const chosen = state.indicator || $("view-needs").dataset.indicator;
  const open = (list.find((k) => keyOf(k) === chosen) || {}).topic;
  if (topics.has(open)) {
    const first = topics.get(open);
    topics.delete(open);
    topics.set(open, first);
    for (const [topic, items] of [...topics]) if (topic !== open) { topics.delete(topic); topics.set(topic, items); }
  }
  const section = el("section", { class: "indicators", "data-testid": "area-indicators", "data-round": round },
    el("h3", { text: t("area_indicators", { round: roundLabel(round) }) }));
  for (const [topic, items] of topics) {
    const dl = el("dl", { class: "ind" });
    for (const r of items) {
      dl.append(el("div", { "data-indicator": keyOf(r), "data-unit": r.unit },
        el("dt", { text: indicatorLabel(r) + (r.population_type ? ` (${t(r.population_type)})` : "") }),
        el("dd", { text: sayValue(r) })));
    }
    section.append(el("details", { open: topic === open ? "" : null }, el("summary", { text: `${topic} (${fmt(items.length)})` }), dl));
  }
  for (const old of box.querySelectorAll("[data-testid=area-indicators]")) old.remove();
  box.querySelector(".links").before(section);
}
