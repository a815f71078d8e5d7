/* What the page knows of the operation (Libya, Iraq, ...): all of it from the API, none
   written here. Also the service's rules as the API states them: the latest round, a
   round's coverage of a level, a national figure. */
import { STORM_ROUND, TYPES } from "./constants.js";
import { data, state } from "./store.js";
import { capital, fmt, fmtDate, name, t } from "./text.js";

export function opName() { return data.op ? name(data.op) : ""; }
export function credit() { return data.op && data.op.map_credit ? data.op.map_credit[state.lang] || data.op.map_credit.en : ""; }
export function levelInfo(n) { return ((data.op && data.op.levels) || []).find((l) => l.level === n) || {}; }
export function levelName(n, plural) {  // "baladiya", "districts", in the page's language
  const lv = levelInfo(n), key = (plural ? "plural_" : "name_") + state.lang;
  return lv[key] || lv[(plural ? "plural_" : "name_") + "en"] || "admin" + n;
}
export function approxLevel() { return data.op && data.op.map ? data.op.map.approximate_level : null; }
// the choices of "Areas": each polygon level; a level of points that has approximate
// polygons, as those and as its points. The deepest level, when points, is drawn over
// the map close up instead (pointLevel).
export function levelOptions() {
  const out = [];
  for (const lv of (data.op ? data.op.levels : []).filter((l) => l.level >= 1)) {
    if (lv.level === approxLevel()) {
      out.push({ value: String(lv.level), level: lv.level, kind: "approx" }, { value: lv.level + "p", level: lv.level, kind: "points" });
    } else if (lv.geometry === "polygon") out.push({ value: String(lv.level), level: lv.level, kind: "polygons" });
  }
  return out;
}
export function levelLabel(o) { return t("level_" + o.kind, { areas: capital(levelName(o.level, true)) }); }
export function choiceOf(value) { return levelOptions().find((o) => o.value === value) || levelOptions()[0] || { value: "2", level: 2, kind: "polygons" }; }
export function levelChoice() { return choiceOf(state.level); }
// the level of the areas the map shows (mantikas or baladiyas; governorates, districts ...)
export function viewLevel() { return levelChoice().level; }
export function pointLevel() {
  const deepest = ((data.op && data.op.levels) || []).reduce((a, l) => (l.level > a.level ? l : a), { level: 0 });
  return deepest.geometry === "point" && deepest.level !== approxLevel() ? deepest.level : null;
}
// the operation's points level (Libya's muhallas, Iraq's locations), for the rounds with figures there
export function hasMuhallas(code) { return pointLevel() != null && ((data.byCode[code] || {}).admin_levels || []).includes(pointLevel()); }
export function pickOperation(asked) {
  const a = String(asked || "").toLowerCase();
  return data.ops.find((o) => o.operation.toLowerCase() === a || o.slug === a) || data.ops.find((o) => o.default) || data.ops[0];
}
export function opBounds() {
  const b = (data.op && data.op.bounds) || [-180, -60, 180, 75];
  return [[b[0], b[1]], [b[2], b[3]]];
}

export function roundLabel(code) {
  const r = data.byCode[code];
  if (!r) return code;
  return r.number ? "R" + r.number : fmtDate(r.reporting_date);
}
/** The operation's mobility-tracking rounds with a date, in the service's time order. */
export function seriesRounds() { return data.rounds.filter((r) => r.kind === "mobility_tracking" && r.reporting_date); }

// a round's coverage of a level for a population type, as the service states it
export function coverage(code, type, level) {
  const r = data.byCode[code];
  return r && (r.coverage || []).find((c) => c.population_type === type && c.level === level);
}
// "Partial: 3 of 100 baladiyas" when the round's figures of the type cover only some of the
// level's areas, said at the finest level the round has figures for (nothing when they
// cover every area, or none)
export function partialText(code, type, level) {
  const here = coverage(code, type, level);
  if (!here || here.complete) return "";
  const finest = ((data.byCode[code] || {}).coverage || [])
    .filter((c) => c.population_type === type && c.level <= 3)
    .reduce((a, c) => (c.level > a.level ? c : a), here);
  return t("partial", { n: fmt(finest.areas), m: fmt(finest.of), areas: levelName(finest.level, true) });
}

// rates per 1,000 residents only where the operation has population denominators
export function rated() { return !!(data.op && data.op.denominators); }
export function measures() { return rated() ? ["absolute", "per_1000"] : ["absolute"]; }

export function chooseDefaults() {
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

// a national figure: stored as one, or summed from every area (never a partial sum)
export function nationalValue(type, code) {
  const series = data.national[type] || [];
  const p = series.find((x) => x.round_code === code && x.complete);
  return p ? p.individuals : null;
}
export function partialNational(type, code) {
  return (data.national[type] || []).some((x) => x.round_code === code && !x.complete);
}
