/* Downloads and QGIS: the view's figures as files, and the OGC API for GIS software. */
import { opPath } from "../api.js";
import { $, el } from "../dom.js";
import { staticMapUrl } from "../mapview.js";
import { hasMuhallas, levelChoice, levelName, partialText, pointLevel, roundLabel, viewLevel } from "../operation.js";
import { state } from "../store.js";
import { capital, t } from "../text.js";
import { drawStats, figureHover } from "./map.js";

function renderDownloads() {
  const c = levelChoice(), level = c.level;
  const geometry = c.kind === "approx" ? "&geometry=approximate" : "";
  const q = opPath(`/api/v1/stats?level=${level}&round=${encodeURIComponent(state.round)}`);
  const ogc = location.origin + "/ogc";
  const tiles = location.origin + "/ogc/tiles/stats-admin2/{z}/{x}/{y}.pbf";
  const copy = el("button", { type: "button", onclick: async (e) => {
    try { await navigator.clipboard.writeText(ogc); e.target.textContent = t("copied"); } catch (_) { $("ogc-url").select(); }
  }, text: t("copy") });
  const partial = partialText(state.round, state.type, viewLevel());
  $("view-downloads").replaceChildren(
    el("h2", { text: t("dl_title") }),
    el("p", { text: t("dl_view", { type: t(state.type), level: capital(levelName(levelChoice().level, true)), round: roundLabel(state.round) }) }),
    partial ? el("p", { class: "meta partial", "data-testid": "dl-partial", text: partial + ". " + t("partial_note") }) : null,
    el("ul", { class: "dl" },
      el("li", {}, el("a", { href: q + "&format=csv", download: "", text: "CSV (HXL)" })),
      el("li", {}, el("a", { href: q + "&format=geojson" + geometry, download: "", text: "GeoJSON" })),
      el("li", {}, el("a", { href: `/ogc/download.gpkg?round=${encodeURIComponent(state.round)}`, download: "", text: t("dl_gpkg", { round: roundLabel(state.round) }) })),
      el("li", {}, el("a", { id: "dl-svg", href: staticMapUrl(state.round, state.level, state.type, state.measure, 1200, 900), download: "", text: t("dl_svg") })),
      ...(hasMuhallas(state.round) ? [el("li", { id: "dl-muhallas" }, t("dl_muhallas", { round: roundLabel(state.round) }), " ",
        el("a", { href: opPath(`/api/v1/stats?level=${pointLevel()}&round=${encodeURIComponent(state.round)}&format=csv`), download: "", text: "CSV (HXL)" }), " · ",
        el("a", { href: opPath(`/api/v1/stats?level=${pointLevel()}&round=${encodeURIComponent(state.round)}&format=geojson&limit=10000`), download: "", text: "GeoJSON" }))] : [])),
    el("h2", { text: t("ogc_title") }),
    el("p", { text: t("ogc_text", { tiles }) }),
    el("div", { class: "searchrow" }, el("input", { id: "ogc-url", type: "text", readonly: "", value: ogc, "aria-label": "OGC API URL", dir: "ltr" }), copy),
    el("p", {}, el("a", { href: "/ogc?f=html", text: t("ogc_pages") }), " · ", el("a", { href: "/docs", text: t("docs") }), " · ", el("a", { href: "/redoc", text: "ReDoc" })));
}

export default {
  id: "downloads",
  enter() {},
  leave() {},
  render() { $("area").hidden = !state.area; renderDownloads(); return drawStats(); },
  hoverText: figureHover,
};
