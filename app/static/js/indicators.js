/* The published indicators (shelter settings, priority needs, access to services) as the
   needs view and the area panel read them: the list of the operation's latest round with
   indicators, an indicator's label and a value said with its unit. */
import { api } from "./api.js";
import { data } from "./store.js";
import { fmt, t } from "./text.js";

/** The operation's indicators: { round, list } (list empty when it has none), fetched once
    per operation. */
export async function indicatorList() {
  const op = data.op;
  if (data.indicators && data.indicators.op === op) return data.indicators;
  const listed = await api("/api/v1/indicators");
  const list = listed.data, round = listed.meta.round;
  data.indicators = { op, round, list };
  return data.indicators;
}

/** The key of an indicator in the page: its code and population type (a code can be both
    the IDPs' and the returnees'). */
export function keyOf(k) { return k.indicator + "|" + (k.population_type || ""); }

/** An indicator's label: its code as words (the data's own names, in English). */
export function indicatorLabel(k) {
  const words = k.indicator.replace(/_/g, " ").replace(/\s+(hh|ind)$/, "");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function unitLabel(unit) { return t("unit_" + unit); }

/** A value as the panel and the hover say it, with its unit. */
export function sayValue(row) {
  if (!row) return "–";
  if (row.unit === "text") return row.text_value || "–";
  if (row.value == null) return "–";
  if (row.unit === "flag") {
    if (row.reported_areas > 1) return t("flag_share", { pct: fmt(100 * row.value, 0), n: fmt(row.reported_areas) });
    return row.value ? t("yes") : t("no");
  }
  if (row.unit === "percent") return fmt(row.value <= 1 ? 100 * row.value : row.value, 1) + "%";
  const text = fmt(row.value) + " " + unitLabel(row.unit);
  return row.share != null ? text + " " + t("of_base", { pct: fmt(100 * row.share, 1) }) : text;
}

/** The level an indicator's map shows: a percentage or text only where published; a
    sum at the level the map shows, when it is not below the published one. */
export function levelFor(k, shown) {
  if (k.unit === "text" || k.unit === "percent") return k.levels[k.levels.length - 1];
  return k.levels.some((l) => l >= shown) ? shown : k.levels[k.levels.length - 1];
}
