/* The round slider: every mobility-tracking round of the operation in time order, with
   Play and Pause. Moving it sets the round as the round select does (the URL keeps it)
   and the map, legend, national figures and open area panel follow; while it is the
   control, the map's classes are the series' own (fixed across rounds). */
import { api } from "./api.js";
import { $, el } from "./dom.js";
import { seriesClassesUrl } from "./mapview.js";
import { roundLabel, seriesRounds } from "./operation.js";
import { onRoundStep } from "./page.js";
import { data, state, viewParam } from "./store.js";
import { fmtDate, isolate, t } from "./text.js";
import { prefetchRound } from "./views/map.js";

const STEP_MS = 1000;  // about once a second while playing
let timer = null;
// "series" while the slider is the control: the map's classes are the whole series' own
viewParam("classes", "round");

function rounds() { return seriesRounds(); }

// the slider's position of a round: its own, or the last series round up to its date (a
// flash update falls between two mobility-tracking rounds)
function indexOf(code) {
  const list = rounds(), at = list.findIndex((r) => r.code === code);
  if (at >= 0) return at;
  const r = data.byCode[code], when = r && (r.reporting_date || r.collection_end);
  if (!when) return list.length - 1;
  let best = 0;
  list.forEach((x, i) => { if (x.reporting_date <= when) best = i; });
  return best;
}

// the round's label set apart from the date (an Arabic date keeps to its own side)
function describe(r) { return `${isolate(roundLabel(r.code))} · ${isolate(fmtDate(r.reporting_date))}`; }

/** Build (or rebuild, in another language or operation) the slider under the round select. */
export function renderTimeline() {
  const box = $("timeline");
  const list = rounds();
  box.hidden = list.length < 2 || state.view !== "map";
  if (box.hidden) pause();
  if (list.length < 2) { box.replaceChildren(); return; }
  const at = indexOf(state.round);
  const slider = el("input", {
    id: "round-slider", type: "range", min: "0", max: String(list.length - 1), step: "1", value: String(at),
    "aria-describedby": "round-slider-out", "data-testid": "round-slider",
  });
  slider.addEventListener("input", () => { pause(); go(+slider.value); });
  const play = el("button", { type: "button", id: "round-play", class: "play", "aria-pressed": String(!!timer), "data-testid": "round-play", text: t(timer ? "pause" : "play") });
  play.addEventListener("click", () => (timer ? pause() : start()));
  box.replaceChildren(
    el("label", { for: "round-slider", text: t("round_slider", { n: list.length }) }),
    el("div", { class: "timeline-row" }, play, slider),
    el("output", { id: "round-slider-out", for: "round-slider", class: "meta", "aria-live": "off" }),
    el("p", { class: "meta bounds" }, el("span", { text: fmtDate(list[0].reporting_date) }), el("span", { text: fmtDate(list[list.length - 1].reporting_date) })));
  show(at);
  api(seriesClassesUrl(state.level, state.type, state.measure)).catch(() => {});  // ahead of the first step
}

// the slider's position and texts for round `i` (not a change of round)
function show(i) {
  const list = rounds(), r = list[i], slider = $("round-slider");
  if (!slider || !r) return;
  slider.value = String(i);
  const text = describe(r) + (list[i].code === state.round ? "" : " · " + t("round_not_in_series"));
  slider.setAttribute("aria-valuetext", text);
  $("round-slider-out").textContent = text;
  document.body.dataset.sliderRound = r.code;
}

/** Show round `i` of the series: the page follows, then the next round is fetched ahead. */
function go(i) {
  const list = rounds(), r = list[i];
  if (!r) return;
  window.dtmRoundSet = { round: r.code, at: performance.now() };  // read by bench/slider.py
  state.classes = "series";
  state.round = r.code;
  show(i);
  onRoundStep();
  for (const next of list.slice(i + 1, i + 3)) prefetchRound(next.code);  // the next two, ahead
}

function start() {
  const list = rounds();
  let i = +$("round-slider").value;
  i = i >= list.length - 1 ? 0 : i + 1;  // at the end: from the start again
  setPressed(true);
  go(i);
  timer = setInterval(() => {
    i += 1;
    if (i < list.length) go(i);
    if (i >= list.length - 1) pause();
  }, STEP_MS);
}

export function pause() {
  if (timer) clearInterval(timer);
  timer = null;
  setPressed(false);
}

function setPressed(on) {
  const b = $("round-play");
  if (!b) return;
  b.setAttribute("aria-pressed", String(on));
  b.textContent = t(on ? "pause" : "play");
}

/** After a change of round from elsewhere (the round select): the slider follows. */
export function followRound() {
  if ($("round-slider")) show(indexOf(state.round));
}
