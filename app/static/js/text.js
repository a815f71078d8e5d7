/* Words and numbers in the page's language (strings from app/static/i18n.js). */
import { state } from "./store.js";

const I18N = window.DTM_I18N;

export function t(key, vars) {
  let s = (I18N[state.lang] && I18N[state.lang][key]) || I18N.en[key] || key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace("{" + k + "}", v);
  return s;
}
export function locale() { return state.lang === "ar" ? "ar-LY" : "en"; }
export function fmt(n, digits) {
  if (n === null || n === undefined) return "–";
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits ?? 0 }).format(n);
}
export function fmtDate(iso) {
  if (!iso) return t("no_date");
  const parts = String(iso).split("-");
  const opts = { year: "numeric", timeZone: "UTC" };
  if (parts.length > 1) opts.month = "short";
  if (parts.length > 2) opts.day = "numeric";
  const date = new Date(Date.UTC(+parts[0], (+parts[1] || 1) - 1, +parts[2] || 1));
  return isNaN(date) ? String(iso) : new Intl.DateTimeFormat(locale(), opts).format(date);
}
/** An object's name in the page's language (an area without an Arabic name keeps its English one). */
export function name(o, prefix) {
  const p = prefix || "";
  return (state.lang === "ar" && o[p + "name_ar"]) || o[p + "name_en"] || o.pcode || "";
}
export function capital(s) { return state.lang === "ar" ? s : s.charAt(0).toUpperCase() + s.slice(1); }

/** A run of text set apart from its surroundings' direction (an English source or a round
    code inside an Arabic sentence keeps its brackets and commas where they belong). */
export function isolate(s) { return "\u2068" + String(s ?? "") + "\u2069"; }
