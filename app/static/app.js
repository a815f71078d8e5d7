/* DTM Geo web map: MapLibre + uPlot over the service's own API; English and Arabic. */
(function () {
  "use strict";

  const TYPES = ["idp", "returnee", "migrant"];
  const PLURAL = { idp: "idps", returnee: "returnees", migrant: "migrants" };
  // viridis, 6 classes, light (low) to dark (high): colour-blind safe and prints in grey
  const VIRIDIS = ["#fde725", "#7ad151", "#22a884", "#2a788e", "#414487", "#440154"];
  const NO_DATA = "#e3e3e3";
  // Okabe-Ito, for the three series of the chart
  const SERIES = { idp: "#E69F00", returnee: "#0072B2", migrant: "#009E73" };
  // ColorBrewer RdBu (colour-blind safe) for Gi* classes
  const HS = [
    ["hot spot 99%", "#b2182b"], ["hot spot 95%", "#ef8a62"], ["hot spot 90%", "#fddbc7"],
    ["not significant", "#f7f7f7"],
    ["cold spot 90%", "#d1e5f0"], ["cold spot 95%", "#67a9cf"], ["cold spot 99%", "#2166ac"],
  ];
  const STORM_ROUND = "storm-daniel-2023-10-31";
  // muhallas (DTM admin 3) are drawn close up only, from the zoom at which the service's
  // own tiles start them (the stats-admin3 and muhallas tile layers' minzoom)
  const MUHALLA_ZOOM = 8;
  const MUHALLA_MAX_RADIUS = 18;
  const EMPTY = { type: "FeatureCollection", features: [] };
  // place names: SDF glyphs the service serves (tools/make_glyphs.py), one fontstack for
  // Latin and Arabic; Arabic shaped and set right to left by the RTL text plugin
  const GLYPHS = location.origin + "/glyphs/{fontstack}/{range}.pbf";
  const FONT = ["Noto Sans Regular"];
  const RTL_PLUGIN = location.origin + "/static/vendor/mapbox-gl-rtl-text-0.3.0/mapbox-gl-rtl-text.js";
  // the zooms at which each level's names are written (collisions drop what does not fit)
  const LABEL_ZOOMS = { 1: [0, 7.5], 2: [6, 24], 3: [8, 24] };
  // The southern edge of an outline tile layer, where known: the lowest latitude of its
  // land (COD-AB, rounded down) in each half degree of longitude. The desktop legend may
  // sit south of it (Libya's: over Algeria, Niger and Chad) without covering the country;
  // for an outline without one, the legend keeps clear of the operation's whole bounds.
  const SOUTH_EDGES = { mantikas: { from: 9.25, step: 0.5, lat: [25.7, 24.6, 24.4, 24.3, 23.9, 23.4, 23.3, 23.2, 23.0, 22.6, 22.6,
    22.8, 23.1, 23.3, 23.1, 22.8, 22.6, 22.3, 22.1, 21.9, 21.6, 21.4, 21.1, 20.9, 20.6, 20.4, 20.1, 19.8, 19.6, 19.5, 20.0, 20.0] } };
  const I18N = window.DTM_I18N;
  const $ = (id) => document.getElementById(id);

  const params = new URLSearchParams(location.search);
  const state = {
    lang: pickLang(params.get("lang") || localStorage.getItem("dtm-lang") || "en"),
    op: params.get("op") || null,  // an operation's ISO3 code or slug; null: the default
    view: params.get("view") || "map",
    round: params.get("round") || null,
    type: params.get("type") || null,
    measure: params.get("measure") || "absolute",
    level: params.get("level") || "2",
    area: params.get("area") || null,
    hsMetric: params.get("metric") || "count",
    stormRound: STORM_ROUND,
  };
  const data = { ops: [], op: null, rounds: [], byCode: {}, latest: {}, national: {}, areas: [], stats: null, storm: null, open: null };
  const cache = new Map();
  let map, chart, popup;
  // Without WebGL (old hardware, remote desktops, locked-down machines) MapLibre cannot
  // draw: the map area then shows the server's static SVG map of the same view.
  let staticMap = false, staticArgs = null;
  function webglAvailable() {
    try {
      const canvas = document.createElement("canvas");
      return !!(canvas.getContext("webgl2") || canvas.getContext("webgl"));
    } catch (_) { return false; }
  }

  function pickLang(l) { return l === "ar" ? "ar" : "en"; }
  function t(key, vars) {
    let s = (I18N[state.lang] && I18N[state.lang][key]) || I18N.en[key] || key;
    for (const [k, v] of Object.entries(vars || {})) s = s.replace("{" + k + "}", v);
    return s;
  }
  function locale() { return state.lang === "ar" ? "ar-LY" : "en"; }
  function fmt(n, digits) {
    if (n === null || n === undefined) return "–";
    return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits ?? 0 }).format(n);
  }
  function fmtDate(iso) {
    if (!iso) return t("no_date");
    const parts = String(iso).split("-");
    const opts = { year: "numeric", timeZone: "UTC" };
    if (parts.length > 1) opts.month = "short";
    if (parts.length > 2) opts.day = "numeric";
    const date = new Date(Date.UTC(+parts[0], (+parts[1] || 1) - 1, +parts[2] || 1));
    return isNaN(date) ? String(iso) : new Intl.DateTimeFormat(locale(), opts).format(date);
  }
  function name(o, prefix) {
    const p = prefix || "";
    return (state.lang === "ar" && o[p + "name_ar"]) || o[p + "name_en"] || o.pcode || "";
  }
  function esc(s) {
    return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  // A link is made only to the service itself or to an http(s) address: a source_url a
  // poster stored is never followed as javascript:, data: or any other scheme.
  function safeHref(href) {
    if (typeof href !== "string" || !href) return null;
    try {
      const url = new URL(href, location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? href : null;
    } catch (e) {
      return null;
    }
  }
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else if (k === "href") { const safe = safeHref(v); if (safe) node.setAttribute("href", safe); }
      else if (k === "html") node.innerHTML = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }
  // every API request names the page's operation (a round code or pcode is looked up in it)
  function opPath(path) {
    if (!data.op || !path.startsWith("/api/v1/") || path.startsWith("/api/v1/operations")) return path;
    return path + (path.includes("?") ? "&" : "?") + "operation=" + data.op.operation;
  }
  async function api(path) {
    path = opPath(path);
    if (cache.has(path)) return cache.get(path);
    const promise = fetch(path, { headers: { Accept: "application/json" } }).then(async (r) => {
      if (!r.ok) throw new Error(r.status + " " + path);
      return r.json();
    });
    cache.set(path, promise);
    promise.catch(() => cache.delete(path));
    return promise;
  }
  function roundLabel(code) {
    const r = data.byCode[code];
    if (!r) return code;
    return r.number ? "R" + r.number : fmtDate(r.reporting_date);
  }
  function setStatus(msg) { $("status").textContent = msg || ""; $("status").hidden = !msg; }
  function syncUrl() {
    const p = new URLSearchParams();
    p.set("lang", state.lang);
    if (data.op && !data.op.default) p.set("op", data.op.operation);
    if (state.view !== "map") p.set("view", state.view);
    if (state.round) p.set("round", state.round);
    if (state.type) p.set("type", state.type);
    if (state.measure !== "absolute") p.set("measure", state.measure);
    if (state.level !== "2") p.set("level", state.level);
    if (state.area) p.set("area", state.area);
    history.replaceState(null, "", "?" + p.toString());
  }

  // --- the operation (Libya, Iraq, ...): all it says of itself comes from the API ----------

  function opName() { return data.op ? name(data.op) : ""; }
  function credit() { return data.op && data.op.map_credit ? data.op.map_credit[state.lang] || data.op.map_credit.en : ""; }
  function levelInfo(n) { return ((data.op && data.op.levels) || []).find((l) => l.level === n) || {}; }
  function levelName(n, plural) {  // "baladiya", "districts", in the page's language
    const lv = levelInfo(n), key = (plural ? "plural_" : "name_") + state.lang;
    return lv[key] || lv[(plural ? "plural_" : "name_") + "en"] || "admin" + n;
  }
  function capital(s) { return state.lang === "ar" ? s : s.charAt(0).toUpperCase() + s.slice(1); }
  function approxLevel() { return data.op && data.op.map ? data.op.map.approximate_level : null; }
  // the choices of "Areas": each polygon level; a level of points that has approximate
  // polygons, as those and as its points. The deepest level, when points, is drawn over
  // the map close up instead (pointLevel).
  function levelOptions() {
    const out = [];
    for (const lv of (data.op ? data.op.levels : []).filter((l) => l.level >= 1)) {
      if (lv.level === approxLevel()) {
        out.push({ value: String(lv.level), level: lv.level, kind: "approx" }, { value: lv.level + "p", level: lv.level, kind: "points" });
      } else if (lv.geometry === "polygon") out.push({ value: String(lv.level), level: lv.level, kind: "polygons" });
    }
    return out;
  }
  function choiceOf(value) { return levelOptions().find((o) => o.value === value) || levelOptions()[0] || { value: "2", level: 2, kind: "polygons" }; }
  function levelChoice() { return choiceOf(state.level); }
  function pointLevel() {
    const deepest = ((data.op && data.op.levels) || []).reduce((a, l) => (l.level > a.level ? l : a), { level: 0 });
    return deepest.geometry === "point" && deepest.level !== approxLevel() ? deepest.level : null;
  }
  function pickOperation(asked) {
    const a = String(asked || "").toLowerCase();
    return data.ops.find((o) => o.operation.toLowerCase() === a || o.slug === a) || data.ops.find((o) => o.default) || data.ops[0];
  }
  function opBounds() {
    const b = (data.op && data.op.bounds) || [-180, -60, 180, 75];
    return [[b[0], b[1]], [b[2], b[3]]];
  }

  // --- language ----------------------------------------------------------------------

  function applyLang() {
    document.documentElement.lang = state.lang;
    document.documentElement.dir = state.lang === "ar" ? "rtl" : "ltr";
    localStorage.setItem("dtm-lang", state.lang);
    document.title = t("title", { op: opName() });
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n, { op: opName() });
    for (const node of document.querySelectorAll("[data-i18n-aria]")) node.setAttribute("aria-label", t(node.dataset.i18nAria));
    const lang = $("lang");
    lang.textContent = t("lang_switch");
    lang.setAttribute("lang", state.lang === "ar" ? "en" : "ar");
    // its name is its visible text, in its own language (WCAG 2.5.3); the hint in ours
    lang.setAttribute("title", t("lang_switch_label"));
    $("map").setAttribute("aria-label", t("map_label", { op: opName() }));
    relabel();
    if (staticMap) $("nowebgl").textContent = t("no_webgl");
  }

  // the date of the operation's newest data and its source (GET /api/v1/sources)
  async function renderAsOf() {
    const box = $("as-of"), op = data.op, lang = state.lang;
    let asOf = null;
    try { asOf = ((await api("/api/v1/sources")).data_as_of || {})[op.operation] || null; } catch (_) { asOf = null; }
    if (data.op !== op || state.lang !== lang) return;
    box.textContent = asOf ? t("data_as_of", { date: fmtDate(asOf.date), round: roundLabel(asOf.round), source: asOf.source }) : "";
    box.dataset.date = asOf ? asOf.date : "";
    box.hidden = !asOf;
  }

  function renderAll() {
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
    syncUrl();
  }

  // --- controls ----------------------------------------------------------------------

  function option(value, label, selected, disabled) {
    return el("option", { value, selected: selected ? "selected" : null, disabled: disabled ? "disabled" : null, text: label });
  }

  function fillSelects() {
    const round = $("round");
    round.replaceChildren();
    const groups = { mobility_tracking: el("optgroup", { label: t("mobility") }), flash_update: el("optgroup", { label: t("flash") }) };
    for (const r of data.rounds) {
      const label = (r.number ? "R" + r.number + " · " : "") + fmtDate(r.reporting_date || r.collection_end)
        + (partialText(r.code, state.type, viewLevel()) ? " · " + partialText(r.code, state.type, viewLevel()) : "");
      (groups[r.kind] || groups.mobility_tracking).append(option(r.code, label, r.code === state.round));
    }
    round.append(groups.mobility_tracking, groups.flash_update);
    const present = (data.byCode[state.round] || {}).population_types || [];
    $("ptype").replaceChildren(...TYPES.map((ty) => option(ty, t(ty), ty === state.type, present.length && !present.includes(ty))));
    $("measure").replaceChildren(...measures().map((m) => option(m, t(m), m === state.measure)));
    $("level").replaceChildren(...levelOptions().map((o) => option(o.value, t("level_" + o.kind, { areas: capital(levelName(o.level, true)) }), o.value === state.level)));
    $("op").replaceChildren(...data.ops.map((o) => option(o.operation, name(o), o === data.op)));
    document.querySelector('[data-view="storm"]').hidden = !data.byCode[STORM_ROUND];  // the storm's rounds are Libya's
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

  // a muhalla is listed with its baladiya: many share a name (with each other, or with
  // the baladiya they are in)
  function searchLabel(a, lang) {
    const own = lang ? a["name_" + lang] || a.name_en : name(a);
    if (a.level !== 3) return own;
    return `${own} (${lang ? a["parent_name_" + lang] || a.parent_name_en : name(a, "parent_")})`;
  }

  function fillDatalist() {
    $("area-names").replaceChildren(...data.areas.map((a) => el("option", { value: searchLabel(a) })));
  }

  // the level-3 names (Libya's 663 muhallas, 23 KB) only once someone searches or zooms
  // in close enough to read them, not with the first map
  let muhallaNames = null;
  function loadMuhallaNames() {
    const op = data.op;
    muhallaNames = muhallaNames || api("/api/v1/areas?level=3").then((l3) => {
      if (data.op !== op) return;
      data.areas = [...data.areas.filter((a) => a.level !== 3), ...l3.data];
      fillDatalist();
      setLabels();
    }).catch(() => { muhallaNames = null; });
    return muhallaNames;
  }

  // the level of the areas the map shows (mantikas or baladiyas; governorates, districts ...)
  function viewLevel() { return levelChoice().level; }

  // a round's coverage of a level for a population type, as the service states it
  function coverage(code, type, level) {
    const r = data.byCode[code];
    return r && (r.coverage || []).find((c) => c.population_type === type && c.level === level);
  }
  // "Partial: 3 of 100 baladiyas" when the round's figures of the type cover only some of the
  // level's areas, said at the finest level the round has figures for (nothing when they
  // cover every area, or none)
  function partialText(code, type, level) {
    const here = coverage(code, type, level);
    if (!here || here.complete) return "";
    const finest = ((data.byCode[code] || {}).coverage || [])
      .filter((c) => c.population_type === type && c.level <= 3)
      .reduce((a, c) => (c.level > a.level ? c : a), here);
    return t("partial", { n: fmt(finest.areas), m: fmt(finest.of), areas: levelName(finest.level, true) });
  }

  // rates per 1,000 residents only where the operation has population denominators
  function rated() { return !!(data.op && data.op.denominators); }
  function measures() { return rated() ? ["absolute", "per_1000"] : ["absolute"]; }

  function chooseDefaults() {
    if (!measures().includes(state.measure)) state.measure = "absolute";
    if (!rated()) state.hsMetric = "count";
    if (state.view === "storm" && !data.byCode[STORM_ROUND]) state.view = "map";  // not this operation's
    const levels = levelOptions();
    if (!levels.some((o) => o.value === state.level)) state.level = (levels.find((o) => o.value === "2") || levels[0] || { value: "2" }).value;
    if (!data.byCode[state.round]) {  // the service's one rule for the latest round
      const level = String(viewLevel());
      const latest = (data.latest[state.type] || {})[level] || (data.latest.any || {})[level];
      state.round = latest || data.rounds[data.rounds.length - 1].code;
    }
    const present = data.byCode[state.round].population_types;
    if (!TYPES.includes(state.type) || (present.length && !present.includes(state.type))) {
      state.type = present.length ? TYPES.find((ty) => present.includes(ty)) : state.type || "idp";
    }
  }

  // --- national figures and chart ----------------------------------------------------

  // a national figure: stored as one, or summed from every area (never a partial sum)
  function nationalValue(type, code) {
    const series = data.national[type] || [];
    const p = series.find((x) => x.round_code === code && x.complete);
    return p ? p.individuals : null;
  }
  function partialNational(type, code) {
    return (data.national[type] || []).some((x) => x.round_code === code && !x.complete);
  }

  function renderNational() {
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

  function renderChart() {
    const box = $("chart");
    const rounds = data.rounds.filter((r) => r.kind === "mobility_tracking" && r.reporting_date);
    const xs = rounds.map((r) => Date.parse(r.reporting_date + "T00:00:00Z") / 1000);
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

  // --- map -----------------------------------------------------------------------------

  function initMap() {
    // lazily: the plugin (44 KB gzipped) is fetched when the first right-to-left label is
    maplibregl.setRTLTextPlugin(RTL_PLUGIN, true).catch(() => {});
    map = new maplibregl.Map({
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
    map.touchZoomRotate.disableRotation();
    placeControls();
    popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false, maxWidth: "260px" });
    window.dtmMap = map;
    map.on("movestart", () => { if (!fitting) home = false; });
    const refit = () => requestAnimationFrame(() => { if (home) fitHome(); });
    new ResizeObserver(refit).observe($("legend"));
    new ResizeObserver(refit).observe(map.getContainer());
    return new Promise((resolve) => map.on("load", () => {
      map.addSource("stats", { type: "geojson", data: { type: "FeatureCollection", features: [] }, promoteId: "pcode" });
      map.addSource("flows", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
      map.addSource("points", { type: "geojson", data: { type: "FeatureCollection", features: [] }, promoteId: "pcode" });
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
      map.on("mousemove", (e) => hover(e, map.queryRenderedFeatures(e.point, { layers: HOVER })[0]));
      map.on("mouseout", () => hover(null, null));
      map.on("click", (e) => {
        const f = map.queryRenderedFeatures(e.point, { layers: CLICK })[0];
        if (f && f.properties.pcode && f.properties.pcode.length >= 6) openArea(f.properties.pcode, true);
      });
      map.on("zoomend", muhallaZoomNote);
      map.on("zoomend", () => { if (map.getZoom() >= LABEL_ZOOMS[3][0] - 0.5) loadMuhallaNames(); });
      resolve();
    }));
  }

  // the operation's level-1 areas as land and lines (the tile layer the API names)
  function showOutline() {
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
  function relabel() {
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
  function showLabels() {
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
  function setLabels() {
    if (!map || !map.getSource("labels")) return;
    const features = data.areas.filter((a) => a.lon != null && a.level >= 1 && a.level <= 3).map((a) => ({
      type: "Feature", geometry: { type: "Point", coordinates: [a.lon, a.lat] },
      properties: { pcode: a.pcode, level: a.level, name_en: a.name_en, name_ar: a.name_ar || null },
    }));
    map.getSource("labels").setData({ type: "FeatureCollection", features });
  }

  let controls = [];
  function placeControls() {  // zoom on the side away from the panel, mirrored in Arabic;
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

  // Fit the operation's country in the map; on a desktop, where the legend floats over the
  // map's bottom-left corner, slide the country away from it (within the spare width) and,
  // if that is not enough, shrink it from below, until the legend covers only neighbours.
  function fitHome() {
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

  // topmost first, as queryRenderedFeatures answers
  const CLICK = ["muhalla-circle", "points-circle", "stats-fill", "stats-fill-multi"];
  const HOVER = ["muhalla-circle", "points-circle", "flows-line", "stats-fill", "stats-fill-multi"];

  function hover(e, f) {
    map.getCanvas().style.cursor = f && f.layer.id !== "flows-line" ? "pointer" : "";
    if (!f) { popup.remove(); return; }
    const p = f.properties;
    let text;
    if (f.layer.id === "flows-line") text = `${name(p, "origin_")} → ${name(p, "destination_")}: ${fmt(p.individuals)} (${t(p.quality)})`;
    else if (f.layer.id === "muhalla-circle") text = `${name(p)} (${name(p, "parent_")}): ${fmt(p[PLURAL[state.type]])} ${t(state.type)}`;
    else if (state.view === "hotspots") text = `${name(p)}: ${t(p.class)} (${fmt(p.value, 1)})`;
    else if (state.view === "storm") text = `${name(p)}: ${fmt(p.individuals)} (${t(p.quality)})`;
    else text = `${name(p)}: ${fmt(p[valueKey()], state.measure === "per_1000" ? 1 : 0)}`;
    popup.setLngLat(e.lngLat).setHTML(`<span dir="auto">${esc(text)}</span>`).addTo(map);
  }

  function valueKey() { return PLURAL[state.type] + (state.measure === "per_1000" ? "_per_1000" : ""); }

  // the classes of a view come from the server (app/maps/classes.py), which draws the
  // static map with the same ones
  function classesUrl(round, level, type, measure) {
    const lv = choiceOf(level).level;
    return `/api/v1/maps/${encodeURIComponent(round)}/classes?level=${lv}&population_type=${type}&measure=${measure}`;
  }

  function colourExpr(key, classes) {
    const value = ["get", key];
    const colours = classes.classes.map((c) => c.colour);
    if (!classes.cuts.length) return ["case", ["==", value, null], classes.no_data, colours[0] || VIRIDIS[2]];
    const step = ["step", value, colours[0]];
    classes.cuts.forEach((c, i) => step.push(c, colours[i + 1]));
    return ["case", ["==", value, null], classes.no_data, step];
  }

  // --- the static map (no WebGL) ---------------------------------------------------------

  function initStatic() {
    staticMap = true;
    document.body.dataset.webgl = "0";
    $("map").replaceChildren(
      el("p", { id: "nowebgl", class: "nowebgl", role: "note", text: t("no_webgl") }),
      el("div", { id: "static-map", class: "static-map", role: "img" }));
  }

  function staticMapUrl(round, level, type, measure, w, h) {
    const c = choiceOf(level), lv = c.level, geometry = c.kind === "approx" ? "approximate" : "official";
    return `/api/v1/maps/${encodeURIComponent(round)}.svg?level=${lv}&geometry=${geometry}&population_type=${type}` +
      `&measure=${measure}&lang=${state.lang}&width=${w}&height=${h}`;
  }

  async function drawStatic(round, level, type, measure) {
    staticArgs = [round, level, type, measure];
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
    if (staticArgs.join() !== [round, level, type, measure].join()) return;  // a newer view
    box.innerHTML = svg;  // drawn by the service, every text escaped there
    box.dataset.url = url;
    box.setAttribute("aria-label", (box.querySelector("svg > title") || {}).textContent || "");
    document.body.dataset.staticAreas = String(box.querySelectorAll("[data-pcode]").length);
  }

  function clearLayers() {
    if (!map) return;
    const empty = { type: "FeatureCollection", features: [] };
    for (const s of ["stats", "points", "flows", "muhallas"]) map.getSource(s).setData(empty);
    document.body.dataset.muhallas = "0";
    document.body.dataset.flows = "0";
  }

  function statsUrl() {
    const c = levelChoice(), level = c.level;
    const geometry = c.kind === "approx" ? "&geometry=approximate" : "";
    return `/api/v1/stats?level=${level}&round=${encodeURIComponent(state.round)}&format=geojson${geometry}`;
  }

  async function drawStats() {
    const url = statsUrl();
    setStatus(t("loading"));
    let fc, classes;
    try {
      [fc, classes] = await Promise.all([api(url), api(classesUrl(state.round, state.level, state.type, state.measure))]);
    } catch (err) { setStatus(t("error", { msg: err.message })); return; }
    if (state.view === "storm" || state.view === "hotspots") return;
    data.stats = fc;
    if (!map) { await drawStatic(state.round, state.level, state.type, state.measure); setStatus(""); return; }
    const key = valueKey();
    const values = fc.features.map((f) => f.properties[key]);
    const colour = colourExpr(key, classes);
    clearLayers();
    const kind = levelChoice().kind;
    if (kind === "points") {
      const max = Math.max(1, ...values.filter((x) => x != null));
      map.getSource("points").setData(fc);
      map.setPaintProperty("points-circle", "circle-color", colour);
      map.setPaintProperty("points-circle", "circle-radius", ["case", ["==", ["get", key], null], 2.5,
        ["interpolate", ["linear"], ["sqrt", ["get", key]], 0, 2.5, Math.sqrt(max), 26]]);
    } else {
      map.getSource("stats").setData(fc);
      for (const id of ["stats-fill", "stats-fill-multi"]) map.setPaintProperty(id, "fill-color", colour);
      map.setPaintProperty("stats-line", "line-dasharray", kind === "approx" ? [2, 2] : [1, 0]);
      map.setPaintProperty("stats-line", "line-color", kind === "approx" ? "#666" : "#fff");
    }
    highlight();
    if (!window.dtmFirstMap) {
      map.once("idle", () => {  // time to first rendered map, read by bench/page_load.py
        if (map.queryRenderedFeatures({ layers: ["stats-fill", "stats-fill-multi", "points-circle"] }).length) window.dtmFirstMap = performance.now();
      });
    }
    const hasData = values.some((x) => x != null);
    const qualities = new Set(fc.features.map((f) => f.properties.quality).filter(Boolean));
    const legend = $("legend");
    legend.replaceChildren(el("h3", { text: t("legend_title", { type: t(state.type), measure: t(state.measure), round: roundLabel(state.round) }) }));
    const partial = partialText(state.round, state.type, viewLevel());
    if (partial) legend.append(el("p", { class: "q partial", "data-testid": "legend-partial", text: partial + ". " + t("partial_note") }));
    if (!hasData) legend.append(el("p", { text: t("no_area_data", { type: t(state.type) }) }));
    else legend.append(classList(classes));
    legend.append(el("p", { class: "q", text: t("quality_published", { op: opName() }) + (qualities.has("modelled") ? " " + t("quality_modelled") : "") }));
    if (kind === "approx") legend.append(el("p", { class: "q approx", text: t("approx_note") }));
    if (kind === "points") legend.append(el("p", { class: "q", text: t("points_note") }));
    legend.append(el("div", { id: "legend-muhallas", class: "mh", hidden: "" }));
    legend.append(el("p", { class: "attr", text: credit() }));
    setStatus("");
    await drawMuhallas();
  }

  // --- muhallas (admin 3): points close up, for the rounds that have them ---------------

  // the operation's points level (Libya's muhallas, Iraq's locations), for the rounds with figures there
  function hasMuhallas(code) { return pointLevel() != null && ((data.byCode[code] || {}).admin_levels || []).includes(pointLevel()); }
  function muhallaUrl(code) { return `/api/v1/stats?level=${pointLevel()}&round=${encodeURIComponent(code)}&format=geojson&limit=10000`; }
  function niceBelow(x) {  // the largest 1, 2 or 5 x 10^k not above x
    const p = 10 ** Math.floor(Math.log10(x));
    return [5, 2, 1].map((m) => m * p).find((v) => v <= x) || p;
  }

  async function drawMuhallas() {
    if (!map) return;
    const source = map.getSource("muhallas");
    // close up, the areas' colours give way to the muhalla points over them
    const opacity = hasMuhallas(state.round) ? ["interpolate", ["linear"], ["zoom"], MUHALLA_ZOOM - 1, 0.9, MUHALLA_ZOOM + 1, 0.5] : 0.9;
    for (const id of ["stats-fill", "stats-fill-multi"]) map.setPaintProperty(id, "fill-opacity", opacity);
    if (!hasMuhallas(state.round)) { source.setData(EMPTY); document.body.dataset.muhallas = "0"; return; }
    const round = state.round, type = state.type;
    let fc;
    try { fc = await api(muhallaUrl(round)); } catch (err) { setStatus(t("error", { msg: err.message })); return; }
    if (state.round !== round || state.type !== type || !["map", "downloads"].includes(state.view)) return;
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

  function muhallaZoomNote() {  // close up: the sizes; far out: how to see them
    const box = $("legend-muhallas");
    if (box && map) box.classList.toggle("far", map.getZoom() < MUHALLA_ZOOM);
  }

  function zoomToMuhallas(largest) {
    const open = data.open && data.open.pcode === state.area && data.open.level >= 2 ? data.open : null;
    const at = open && open.lon != null ? [open.lon, open.lat] : largest ? largest.geometry.coordinates : map.getCenter();
    map.easeTo({ center: at, zoom: Math.max(map.getZoom(), MUHALLA_ZOOM + 1.5) });
  }

  function classList(classes) {
    const digits = state.measure === "per_1000" ? 1 : 0;
    const ul = el("ul", { class: "classes cols" });
    for (const c of classes.classes) {
      ul.append(el("li", {}, el("span", { class: "sw", style: `background:${c.colour}` }), el("span", { text: `${fmt(c.from, digits)} – ${fmt(c.to, digits)}` })));
    }
    ul.append(el("li", {}, el("span", { class: "sw", style: `background:${classes.no_data}` }), el("span", { text: t("no_data") })));
    return ul;
  }

  function highlight() {
    if (!map || !map.getLayer("selected-line")) return;
    const f = ["==", ["get", "pcode"], state.area || ""];
    map.setFilter("selected-line", f);
    map.setFilter("selected-point", f);
    map.setFilter("selected-muhalla", f);
  }

  // --- area panel ----------------------------------------------------------------------

  async function openArea(pcode, fly) {
    state.area = pcode;
    syncUrl();
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
    } catch (err) { box.hidden = false; box.textContent = t("error", { msg: err.message }); return; }
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
    if (props.quality) parts.push(el("p", { class: "meta", text: `${t("quality")}: ${t(props.quality)}${area.level === 2 ? " · " + t("approx_note") : ""}` }));

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
    const zoom = { 1: 5, 2: 6, 3: MUHALLA_ZOOM + 2 }[area.level] || 5;
    if (fly && map && area.lon != null) map.easeTo({ center: [area.lon, area.lat], zoom: Math.max(map.getZoom(), zoom) });
  }

  function closeArea() {
    state.area = null;
    $("area").hidden = true;
    $("area").dataset.pcode = "";
    highlight();
    syncUrl();
  }

  async function search(q) {
    q = q.trim();
    if (!q) return;
    const msg = $("search-msg");
    msg.textContent = "";
    await loadMuhallaNames();
    // a baladiya before the mantika of the same name (Derna the city, not the district),
    // and both before a muhalla of that name (Ghat the baladiya, not Ghat the muhalla)
    const rank = (a) => ({ 2: 0, 1: 1, 3: 2 })[a.level] ?? 3;
    const lower = q.toLowerCase();
    const exact = data.areas.filter((a) => ["en", "ar"].some((l) => [a["name_" + l], searchLabel(a, l)].some((s) => s && s.toLowerCase() === lower)))
      .sort((a, b) => rank(a) - rank(b))[0];
    let hit = exact;
    for (const level of [2, 3]) {  // then any known spelling: baladiyas first, then muhallas
      if (hit) break;
      const res = await fetch(opPath(`/api/v1/areas?name=${encodeURIComponent(q)}&level=${level}`), { headers: { Accept: "application/json" } });
      const body = res.ok ? await res.json() : { data: [] };
      hit = body.data[0];
    }
    if (!hit) { msg.textContent = t("not_found", { q }); return; }
    if (state.view !== "map") setView("map");
    openArea(hit.pcode, true);
  }

  // --- Storm Daniel ----------------------------------------------------------------------

  async function renderStorm() {
    const box = $("view-storm");
    const ev = data.storm || (data.storm = await api("/api/v1/events/storm-daniel-2023"));
    const snap = ev.snapshots.find((s) => s.round === state.stormRound) || ev.snapshots[ev.snapshots.length - 1];
    const withFlows = ev.snapshots.filter((s) => s.flows > 0);
    const headline = ev.snapshots.find((s) => s.round === STORM_ROUND);
    const parts = [el("h2", { text: t("storm_title") })];
    parts.push(el("p", { class: "big" }, el("strong", { "data-testid": "storm-total", text: fmt(headline.idps) }), " " + t("storm_headline")));
    parts.push(el("p", { class: "meta" }, t("source") + ": ", el("a", { href: headline.source_url, rel: "noopener", text: data.byCode[STORM_ROUND] ? data.byCode[STORM_ROUND].title : STORM_ROUND })));
    const sel = el("select", { id: "storm-round", onchange: (e) => { state.stormRound = e.target.value; renderStorm(); } },
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

  // --- hotspots ------------------------------------------------------------------------

  async function renderHotspots() {
    clearLayers();
    const body = $("hs-body");
    const legend = $("legend");
    const title = t("hs_title", { type: t(state.type), round: roundLabel(state.round) });
    const url = `/api/v1/hotspots?round=${encodeURIComponent(state.round)}&population_type=${state.type}&metric=${state.hsMetric}&format=geojson`;
    // the service says when too few areas have figures (and how many are needed)
    const answer = await fetch(opPath(url), { headers: { Accept: "application/json" } });
    const fc = await answer.json();
    if (state.view !== "hotspots") return;
    if (!answer.ok) {
      const why = fc.min_areas ? t("hs_none", { type: t(state.type), n: fmt(fc.areas), min: fmt(fc.min_areas) }) : t("error", { msg: fc.detail || answer.status });
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

  // --- downloads -----------------------------------------------------------------------

  function renderDownloads() {
    const c = levelChoice(), level = c.level;
    const geometry = c.kind === "approx" ? "&geometry=approximate" : "";
    const q = opPath(`/api/v1/stats?level=${level}&round=${encodeURIComponent(state.round)}`);
    const ogc = location.origin + "/ogc";
    const tiles = location.origin + "/ogc/tiles/stats-admin2/{z}/{x}/{y}.pbf";
    const copy = el("button", { type: "button", onclick: async (e) => {
      try { await navigator.clipboard.writeText(ogc); e.target.textContent = t("copied"); } catch (_) { $("ogc-url").select(); }
    }, text: t("copy") });
    $("view-downloads").replaceChildren(
      el("h2", { text: t("dl_title") }),
      el("p", { text: t("dl_view", { type: t(state.type), level: capital(levelName(levelChoice().level, true)), round: roundLabel(state.round) }) }),
      partialText(state.round, state.type, viewLevel()) ? el("p", { class: "meta partial", "data-testid": "dl-partial", text: partialText(state.round, state.type, viewLevel()) + ". " + t("partial_note") }) : null,
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

  // --- views ---------------------------------------------------------------------------

  function setView(view) {
    state.view = ["map", "storm", "hotspots", "downloads"].includes(view) ? view : "map";
    renderView();
    syncUrl();
  }

  function renderView() {
    for (const b of document.querySelectorAll("[data-view]")) b.setAttribute("aria-pressed", String(b.dataset.view === state.view));
    for (const v of ["map", "storm", "hotspots", "downloads"]) $("view-" + v).hidden = v !== state.view;
    document.body.dataset.mode = state.view;
    if (map ? !map.getSource("stats") : !staticMap) return;
    if (popup) popup.remove();
    if (state.view === "storm") { $("area").hidden = true; renderStorm(); return; }
    $("area").hidden = !state.area;
    if (state.view === "hotspots") { renderHotspots(); return; }
    if (state.view === "downloads") renderDownloads();
    if (map) map.setPaintProperty("flows-line", "line-width", 2);
    drawStats();
  }

  function onRoundChange() {
    chooseDefaults();
    fillSelects();
    renderRoundInfo();
    renderNational();
    renderChart();
    if (state.area) openArea(state.area, false);
    renderView();
    syncUrl();
  }

  function wire() {
    $("lang").addEventListener("click", () => { state.lang = state.lang === "ar" ? "en" : "ar"; renderAll(); });
    for (const b of document.querySelectorAll("[data-view]")) b.addEventListener("click", () => setView(b.dataset.view));
    $("round").addEventListener("change", (e) => { state.round = e.target.value; onRoundChange(); });
    $("ptype").addEventListener("change", (e) => { state.type = e.target.value; onRoundChange(); });
    $("measure").addEventListener("change", (e) => { state.measure = e.target.value; renderView(); syncUrl(); });
    $("level").addEventListener("change", (e) => { state.level = e.target.value; renderView(); syncUrl(); });
    $("hs-metric").addEventListener("change", (e) => { state.hsMetric = e.target.value; renderView(); });
    $("op").addEventListener("change", (e) => switchOperation(e.target.value).catch((err) => setStatus(t("error", { msg: err.message }))));
    $("search-form").addEventListener("submit", (e) => { e.preventDefault(); search($("search").value); });
    $("search").addEventListener("focus", loadMuhallaNames);
    let timer;
    window.addEventListener("resize", () => {
      clearTimeout(timer);
      timer = setTimeout(() => { renderChart(); if (staticMap && staticArgs) drawStatic(...staticArgs); }, 200);
    });
  }

  // an operation's rounds, national series and first two levels of areas
  async function loadOperation() {
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
    muhallaNames = null;
    chooseDefaults();
  }

  // another operation: its rounds, figures, legend, panel and names, the map fitted to it
  async function switchOperation(code) {
    const next = pickOperation(code);
    if (next === data.op) return;
    data.op = next;
    state.op = next.operation;
    Object.assign(state, { round: null, area: null, type: null });
    setStatus(t("loading"));
    $("area").hidden = true;
    await loadOperation();
    if (map) {
      clearLayers();
      showOutline();
      showLabels();
      home = true;
      fitHome();
    }
    renderAll();
    setStatus("");
    document.body.dataset.op = data.op.operation;
  }

  async function main() {
    wire();
    data.ops = (await api("/api/v1/operations")).data;
    data.op = pickOperation(state.op);
    state.op = data.op.operation;
    applyLang();
    let mapReady = null;
    if (webglAvailable()) {
      try { mapReady = initMap(); } catch (err) { map = null; }  // WebGL there but unusable
    }
    if (!mapReady) { initStatic(); mapReady = Promise.resolve(); }
    await loadOperation();
    if (state.view === "map") api(statsUrl()).catch(() => {});  // fetch while the map starts
    await mapReady;
    setLabels();
    renderAll();
    document.body.dataset.op = data.op.operation;
    document.body.dataset.ready = "1";
  }

  main().catch((err) => setStatus(t("error", { msg: err.message })));
})();
