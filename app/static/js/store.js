/* The page's state: what the URL holds (state) and what was fetched (data). The URL is
   written here only (writeUrl), from the state. */

function pickLang(l) { return l === "ar" ? "ar" : "en"; }

const params = new URLSearchParams(location.search);

export const state = {
  lang: pickLang(params.get("lang") || localStorage.getItem("dtm-lang") || "en"),
  op: params.get("op") || null,  // an operation's ISO3 code or slug; null: the default
  view: params.get("view") || "map",
  round: params.get("round") || null,
  type: params.get("type") || null,
  measure: params.get("measure") || "absolute",
  level: params.get("level") || "2",
  area: params.get("area") || null,
  hsMetric: params.get("metric") || "count",
};

// views keep their own URL parameters here (e.g. the change view's rounds): name -> default
const viewParams = {};
export function viewParam(name, fallback) {
  viewParams[name] = fallback;
  if (!(name in state)) state[name] = params.get(name) ?? fallback;
  return state[name];
}

export const data = { ops: [], op: null, rounds: [], byCode: {}, latest: {}, national: {}, areas: [], stats: null, storm: null, open: null };

export function setLang(lang) { state.lang = pickLang(lang); localStorage.setItem("dtm-lang", state.lang); }

/** Assign to the state and write the URL. */
export function set(patch) {
  Object.assign(state, patch);
  writeUrl();
}

export function writeUrl() {
  const p = new URLSearchParams();
  p.set("lang", state.lang);
  if (data.op && !data.op.default) p.set("op", data.op.operation);
  if (state.view !== "map") p.set("view", state.view);
  if (state.round) p.set("round", state.round);
  if (state.type) p.set("type", state.type);
  if (state.measure !== "absolute") p.set("measure", state.measure);
  if (state.level !== "2") p.set("level", state.level);
  if (state.area) p.set("area", state.area);
  for (const [name, fallback] of Object.entries(viewParams)) {
    if (state[name] != null && state[name] !== fallback) p.set(name, state[name]);
  }
  history.replaceState(null, "", "?" + p.toString());
}
