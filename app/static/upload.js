// The upload page for DTM teams: a dry run of a file, what it would change, then the write
// and the round's history, through the same ingest API the scripts use (README, "Posting
// round data"). Every text from the service goes into the page with textContent: a value
// in a posted file can never become markup.
import { $, el } from "./js/dom.js";
import { STRINGS } from "./upload-i18n.js";

const KEY = "dtm-upload-key"; // sessionStorage only: gone with the tab, never in the URL
const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const NEW = "__new__";
const KINDS = ["mobility_tracking", "flash_update", "event_tracking"];
const QUALITIES = ["published", "modelled", "synthetic"];
const MODES = ["upsert", "replace"];
const ACTIONS = ["inserted", "updated", "unchanged", "removed"];

const params = new URLSearchParams(location.search);
const state = {
  lang: pickLang(params.get("lang") || localStorage.getItem("dtm-lang")),
  op: params.get("op"),
  round: params.get("round"),
  ops: [],
  rounds: [],
  file: null,
  report: null, // the last answer shown (a dry run, a refusal or a write)
  sent: null, // what the dry run sent: the write sends exactly that again
  idem: null, // Idempotency-Key of the pending write, kept for its retries
};

function pickLang(lang) {
  return lang === "ar" ? "ar" : "en";
}

function t(key, vars) {
  let s = STRINGS[state.lang][key] ?? STRINGS.en[key] ?? key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

function fmt(n) {
  if (n === null || n === undefined || n === "") return "—";
  if (typeof n !== "number") return String(n);
  return new Intl.NumberFormat(state.lang === "ar" ? "ar-LY" : "en").format(n);
}

function fmtTime(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  const opts = { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" };
  return new Intl.DateTimeFormat(state.lang === "ar" ? "ar-LY" : "en-GB", opts).format(d) + " UTC";
}

/** A table in a box that scrolls sideways on a phone: focusable, so that the keyboard
 * scrolls it too, and named by `label`. */
function table(head, rows, attrs = {}, label = "") {
  return el(
    "div",
    { class: "scroll", tabindex: "0", role: "region", "aria-label": label || head.join(", ") },
    el(
      "table",
      { class: "rounds up-table", ...attrs },
      el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, rows),
    ),
  );
}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // crypto.randomUUID needs a secure context (https or localhost); a server on a LAN
  // address over http still has getRandomValues
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// --- the API -----------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body, headers) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.headers = headers;
  }
}

async function api(method, path, { query, body, headers } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  }
  const h = { Accept: "application/json", ...(headers || {}) };
  const key = sessionStorage.getItem(KEY);
  if (key) h["X-API-Key"] = key;
  let res;
  try {
    res = await fetch(url, { method, body, headers: h, cache: "no-store" });
  } catch {
    throw new ApiError(0, null);
  }
  const raw = await res.text();
  let data = null;
  try {
    data = raw ? JSON.parse(raw) : null;
  } catch {
    data = null;
  }
  if (!res.ok) throw new ApiError(res.status, data, res.headers);
  return { status: res.status, data, headers: res.headers };
}

/** A failed request as a message in the page's language, the service's words under it. */
function failure(where, err, what) {
  const box = $(where);
  box.replaceChildren();
  box.dataset.status = err.status ?? "";
  let key = "err_other";
  if (err.status === 0) key = "err_network";
  else if (err.status >= 500) key = "err_5xx";
  else if (STRINGS.en[`err_${err.status}`]) key = `err_${err.status}`;
  const lead = what ? t("err_load", { what: t(what) }) + " " : "";
  box.append(el("p", { class: "bad", "data-testid": "error", text: lead + t(key, { status: err.status }) }));
  if (err.status && err.body && err.body.detail) {
    box.append(el("p", { class: "meta", lang: "en", dir: "ltr", text: t("server_says") + err.body.detail }));
  }
  const fields = (err.body && err.body.errors) || [];
  if (fields.length && fields[0].parameter !== undefined) {
    box.append(
      table(
        [t("field"), t("message")],
        fields.map((e) => el("tr", {}, el("td", { text: e.parameter }), el("td", { lang: "en", dir: "ltr", text: e.message }))),
      ),
    );
  }
}

function note(where, text, kind = "ok") {
  const box = $(where);
  box.replaceChildren(text ? el("p", { class: kind, text }) : "");
  delete box.dataset.status;
}

// --- language ----------------------------------------------------------------------------

function writeUrl() {
  const p = new URLSearchParams();
  p.set("lang", state.lang);
  if (state.op) p.set("op", state.op);
  if (state.round && state.round !== NEW) p.set("round", state.round);
  history.replaceState(null, "", `${location.pathname}?${p}`);
  $("to-map").setAttribute("href", `/?lang=${state.lang}${state.op ? "&op=" + encodeURIComponent(state.op) : ""}`);
}

function applyLang() {
  document.documentElement.lang = state.lang;
  document.documentElement.dir = state.lang === "ar" ? "rtl" : "ltr";
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-aria]")) node.setAttribute("aria-label", t(node.dataset.i18nAria));
  const lang = $("lang");
  lang.textContent = t("lang_switch");
  lang.setAttribute("lang", state.lang === "ar" ? "en" : "ar");
  lang.setAttribute("title", t("lang_switch_label"));
  fillSelect($("nr-kind"), KINDS.map((k) => [k, t(k)]));
  fillSelect($("quality"), QUALITIES.map((k) => [k, t(k)]));
  fillSelect($("mode"), MODES.map((k) => [k, t(k)]));
  showKeyState();
  renderOps();
  renderRounds();
  showFile();
  if (state.report) renderReport(state.report.body, state.report.written);
  if (state.historyRows) renderHistory(state.historyRows);
  writeUrl();
}

function fillSelect(select, options) {
  const keep = select.value;
  select.replaceChildren(...options.map(([value, label]) => el("option", { value, text: label })));
  if (options.some(([v]) => v === keep)) select.value = keep;
}

// --- step 1: the key ---------------------------------------------------------------------

function showKeyState() {
  const has = Boolean(sessionStorage.getItem(KEY));
  $("key-state").textContent = has ? t("key_set") : t("key_unset");
  $("key-forget").hidden = !has;
}

function needKey(where) {
  if (sessionStorage.getItem(KEY)) return true;
  note(where, t("key_needed"), "bad");
  $("key").focus();
  return false;
}

// --- step 2: operation and round ---------------------------------------------------------

function opName(o) {
  return (state.lang === "ar" && o.name_ar) || o.name_en || o.operation;
}

function renderOps() {
  fillSelect($("op"), state.ops.map((o) => [o.operation, opName(o)]));
  if (state.op) $("op").value = state.op;
}

function roundLabel(r) {
  const date = r.reporting_date || r.collection_end || "";
  return [r.code, date, r.title].filter(Boolean).join(" · ");
}

function renderRounds() {
  const options = [["", t("choose_round")], [NEW, t("new_round")]];
  // newest first: a team posts the latest round
  for (const r of [...state.rounds].reverse()) options.push([r.code, roundLabel(r)]);
  fillSelect($("round"), options);
  $("round").value = state.round && options.some(([v]) => v === state.round) ? state.round : "";
  const r = currentRound();
  $("round-info").textContent = r ? t("round_info", { title: r.title, revision: fmt(r.revision), observations: fmt(r.observations) }) : "";
  $("new-round").hidden = $("round").value !== NEW;
  $("nr-event-field").hidden = $("nr-kind").value === "mobility_tracking";
}

function currentRound() {
  return state.rounds.find((r) => r.code === state.round) || null;
}

async function loadOps() {
  try {
    const { data } = await api("GET", "/api/v1/operations");
    state.ops = data.data;
  } catch (err) {
    failure("round-msg", err, "what_operations");
    return;
  }
  const known = state.ops.find((o) => o.operation === state.op || o.slug === state.op);
  state.op = (known || state.ops.find((o) => o.default) || state.ops[0] || {}).operation;
  renderOps();
  await loadRounds();
}

async function loadRounds() {
  await fetchRounds();
  roundChosen();
  writeUrl();
}

async function fetchRounds() {
  try {
    const { data } = await api("GET", "/api/v1/rounds", { query: { operation: state.op } });
    state.rounds = data.data;
  } catch (err) {
    state.rounds = [];
    failure("round-msg", err, "what_rounds");
  }
  if (state.round && state.round !== NEW && !currentRound()) state.round = null;
  renderRounds();
}

function roundChosen() {
  const r = currentRound();
  if (r) {
    // the round's own source, as the scripts default to; the officer may change it
    $("source").value = r.source || "";
    $("source-url").value = r.source_url || "";
  }
  clearReport();
  if (r) loadHistory();
  else $("history").hidden = true;
}

async function createRound(event) {
  event.preventDefault();
  if (!needKey("round-msg")) return;
  const code = $("nr-code").value.trim();
  const val = (id) => $(id).value.trim() || null;
  const kind = $("nr-kind").value;
  const number = $("nr-number").value ? Number($("nr-number").value) : null;
  const body = {
    operation: state.op,
    number,
    kind,
    event_slug: kind === "mobility_tracking" ? null : val("nr-event"),
    title: $("nr-title").value.trim(),
    collection_start: val("nr-start"),
    collection_end: val("nr-end"),
    reporting_date: val("nr-reported"),
    published_on: val("nr-published"),
    source: $("nr-source").value.trim(),
    source_url: val("nr-url"),
  };
  $("nr-create").disabled = true;
  try {
    const { status } = await api("PUT", `/api/v1/rounds/${encodeURIComponent(code)}`, {
      body: JSON.stringify(body),
      headers: { "Content-Type": "application/json" },
    });
    state.round = code;
    await loadRounds();
    note("round-msg", t(status === 201 ? "nr_created" : "nr_updated", { code }));
  } catch (err) {
    failure("round-msg", err);
  } finally {
    $("nr-create").disabled = false;
  }
}

// --- step 3: the file and its dry run ----------------------------------------------------

function contentType(file) {
  const name = file.name.toLowerCase();
  if (name.endsWith(".xlsx") || file.type === XLSX) return XLSX;
  if (name.endsWith(".csv") || file.type === "text/csv") return "text/csv";
  return null;
}

function showFile() {
  const f = state.file;
  $("file-name").textContent = f ? t("file_chosen", { name: f.name, size: fmt(f.size) + " B" }) : "";
}

function fileChosen(file) {
  if (!file) return;
  if (!contentType(file)) {
    state.file = null;
    showFile();
    note("file-msg", t("file_type", { name: file.name }), "bad");
    return;
  }
  state.file = file;
  showFile();
  dryRun();
}

function clearReport() {
  state.report = state.sent = state.idem = null;
  $("result").hidden = true;
  $("confirm").hidden = true;
  note("confirm-msg", "");
}

async function dryRun() {
  clearReport();
  if (!needKey("file-msg")) return;
  if (!currentRound()) return note("file-msg", t("round_needed"), "bad");
  if (!state.file) return note("file-msg", t("file_needed"), "bad");
  if (!$("source").value.trim()) return note("file-msg", t("source_needed"), "bad");
  const code = state.round;
  const query = {
    source: $("source").value.trim(),
    source_url: $("source-url").value.trim(),
    quality: $("quality").value,
    mode: $("mode").value,
  };
  note("file-msg", t("checking"), "meta");
  $("check").disabled = true;
  try {
    // the round's revision as the dry run saw it: the write is refused (412) if another
    // write came in between, so what was confirmed is what is written
    const round = await api("GET", `/api/v1/rounds/${encodeURIComponent(code)}`);
    const file = state.file;
    const headers = { "Content-Type": contentType(file) };
    const { data } = await api("POST", `/api/v1/rounds/${encodeURIComponent(code)}/files`, {
      query: { ...query, dry_run: "true" },
      body: file,
      headers,
    });
    note("file-msg", "");
    state.sent = { code, query, file, headers: { ...headers, "If-Match": round.headers.get("ETag") } };
    state.report = { body: data, written: false, query };
    renderReport(data, false);
  } catch (err) {
    if (err.status === 422 && Array.isArray(err.body.errors) && err.body.errors.some((e) => "row" in e)) {
      note("file-msg", "");
      state.report = { body: err.body, written: false, refused: true, query };
      renderReport(err.body, false);
    } else {
      failure("file-msg", err);
    }
  } finally {
    $("check").disabled = false;
  }
}

// --- step 4: what changes, and the write -------------------------------------------------

function colName(c) {
  return STRINGS.en[`col_${c}`] ? t(`col_${c}`) : c;
}

function figure(action, value) {
  return el(
    "div",
    { class: "fig" + (value && ["inserted", "updated", "removed"].includes(action) ? " on" : "") },
    el("dt", { text: t(action) }),
    el("dd", { "data-testid": `count-${action}`, "data-value": value ?? 0, text: fmt(value ?? 0) }),
  );
}

function renderReport(body, written) {
  $("result").hidden = false;
  $("result-title").textContent = written ? t("written_h") : t("result_h");
  const out = $("result-body");
  out.replaceChildren();
  if (state.report && state.report.refused) {
    renderProblems(out, body);
    $("confirm").hidden = true;
    return;
  }
  out.append(
    el("p", { class: written ? "ok" : "meta", "data-testid": "result-note", text: written ? t("written_note", { round: body.round, revision: fmt(body.round_revision) }) : t("dry_note") }),
    el("dl", { class: "figures up-figures", "data-testid": "counts" }, figure("rows", body.rows), ACTIONS.map((a) => figure(a, body[a]))),
  );
  const parts = body.parts || [body];
  for (const part of parts) {
    if (parts.length > 1) {
      out.append(el("h3", { class: "part", text: t("part", { dataset: t(part.dataset) }) }));
      out.append(el("p", { class: "meta", text: ACTIONS.map((a) => `${t(a)}: ${fmt(part[a])}`).join(" · ") }));
    }
    for (const action of ["inserted", "updated", "removed"]) {
      const rows = (part.examples || {})[action] || [];
      if (rows.length) out.append(examples(action, rows, part[action]));
    }
  }
  const changes = body.inserted + body.updated + body.removed;
  $("confirm").hidden = written || changes === 0;
  if (!written && changes === 0) out.append(el("p", { class: "meta", text: t("nothing_to_write") }));
}

/** Example rows of one action: the new values, and for a changed row old → new. */
function examples(action, rows, total) {
  // removed rows are the stored ones: one object a row, no 'before'
  const flat = action === "removed" ? rows.map((r) => ({ ...r })) : rows;
  const skip = new Set(["row", "before", "source", "source_url", "quality", "round"]);
  const columns = [];
  for (const r of flat) {
    for (const [k, v] of Object.entries(r)) {
      if (!skip.has(k) && !columns.includes(k) && (v !== null || (r.before && r.before[k] !== null && r.before[k] !== undefined))) columns.push(k);
    }
  }
  // a change of source or quality alone also makes a row 'changed': show it
  const query = (state.report && state.report.query) || {};
  const meta = action === "updated" ? ["source", "quality"].filter((k) => rows.some((r) => r.before && r.before[k] !== query[k])) : [];
  const arrow = state.lang === "ar" ? " ← " : " → ";
  const head = [...(action === "removed" ? [] : [t("row")]), ...columns.map(colName), ...meta.map(colName)];
  const trs = flat.map((r) =>
    el(
      "tr",
      { "data-row": r.row ?? "" },
      action === "removed" ? [] : [el("td", { text: fmt(r.row) })],
      columns.map((c) => {
        const before = r.before ? r.before[c] : undefined;
        if (action === "updated" && before !== undefined && before !== r[c]) {
          return el(
            "td",
            { class: "chg", "data-old": before ?? "", "data-new": r[c] ?? "" },
            el("del", { text: fmt(before) }),
            arrow,
            el("ins", { text: fmt(r[c]) }),
          );
        }
        return el("td", { text: fmt(r[c]) });
      }),
      meta.map((k) => {
        return el("td", { class: "chg" }, el("del", { text: r.before[k] ?? "—" }), arrow, el("ins", { text: query[k] ?? "—" }));
      }),
    ),
  );
  return el(
    "section",
    { class: "examples", "data-testid": `examples-${action}` },
    el("h3", { text: t(`examples_${action}`) }),
    rows.length < total ? el("p", { class: "meta", text: t("examples_of", { shown: fmt(rows.length), total: fmt(total) }) }) : null,
    table(head, trs, {}, t(`examples_${action}`)),
  );
}

/** Sheet and column as the workbook names them, from the problem's `cell`. */
function where(e) {
  const found = /^sheet '(.*)', column '(.*)'$/.exec(e.cell || "");
  return found ? { sheet: found[1], column: found[2] } : { sheet: "", column: e.column };
}

function renderProblems(out, body) {
  out.append(
    el("h3", { class: "bad", text: t("problems_h") }),
    el("p", { "data-testid": "problems-note", "data-total": body.total_errors, text: t("problems_note", { total: fmt(body.total_errors), listed: fmt(body.listed_errors) }) }),
    table(
      [t("sheet"), t("row"), t("column"), t("value"), t("message")],
      body.errors.map((e) => {
        const w = where(e);
        return el(
          "tr",
          { "data-row": e.row, "data-column": e.column },
          el("td", { text: w.sheet || "—" }),
          el("td", { text: fmt(e.row) }),
          el("td", { text: w.column }),
          el("td", { dir: /[\u0600-\u06ff]/.test(e.value || "") ? "rtl" : "ltr", text: e.value ?? "" }),
          el("td", { lang: "en", dir: "ltr", text: e.message }),
        );
      }),
      { "data-testid": "problems" },
      t("problems_h"),
    ),
  );
  if ((body.error_counts || []).length && body.total_errors > body.listed_errors) {
    out.append(
      el("h3", { text: t("problem_counts") }),
      table(
        [t("column"), t("message"), t("count")],
        body.error_counts.map((g) => el("tr", {}, el("td", { text: g.column }), el("td", { lang: "en", dir: "ltr", text: g.message }), el("td", { text: fmt(g.count) }))),
      ),
    );
  }
}

async function confirmWrite() {
  const sent = state.sent;
  if (!sent) return;
  // one key for this write and all its retries: a write that reached the database before
  // its answer was lost is answered again, never written twice
  state.idem = state.idem || uuid();
  $("confirm").disabled = true;
  note("confirm-msg", t("writing"), "meta");
  try {
    const { data } = await api("POST", `/api/v1/rounds/${encodeURIComponent(sent.code)}/files`, {
      query: sent.query,
      body: sent.file,
      headers: { ...sent.headers, "Idempotency-Key": state.idem },
    });
    note("confirm-msg", t("written"));
    state.report = { body: data, written: true, query: sent.query };
    state.sent = null;
    renderReport(data, true);
    await fetchRounds(); // the round's new revision and count
    await loadHistory();
  } catch (err) {
    failure("confirm-msg", err);
  } finally {
    $("confirm").disabled = false;
  }
}

// --- step 5: history ---------------------------------------------------------------------

async function loadHistory() {
  const code = state.round;
  $("history").hidden = false;
  note("history-msg", t("loading"), "meta");
  try {
    const { data } = await api("GET", `/api/v1/rounds/${encodeURIComponent(code)}/history`);
    if (code !== state.round) return;
    state.historyRows = data.data;
    note("history-msg", "");
    renderHistory(data.data);
  } catch (err) {
    state.historyRows = null;
    $("history-body").replaceChildren();
    failure("history-msg", err, "what_history");
  }
}

function renderHistory(rows) {
  const body = $("history-body");
  if (!rows.length) return body.replaceChildren(el("p", { class: "meta", text: t("history_empty") }));
  // newest first
  const trs = [...rows].reverse().map((h) =>
    el(
      "tr",
      { "data-submission": h.submission_id, "data-dataset": h.dataset },
      el("td", { text: fmtTime(h.created_at) }),
      el("td", { text: h.key_name ?? "—" }),
      el("td", { text: STRINGS.en[h.dataset] ? t(h.dataset) : h.dataset }),
      el("td", { text: STRINGS.en[h.mode] ? t(h.mode) : h.mode }),
      el("td", { text: fmt(h.round_revision) }),
      el("td", { text: ACTIONS.filter((a) => h.counts && h.counts[a]).map((a) => `${t(a)} ${fmt(h.counts[a])}`).join(" · ") || "—" }),
    ),
  );
  body.replaceChildren(table([t("when"), t("key_name"), t("dataset"), t("mode"), t("revision"), t("counts")], trs, { "data-testid": "history" }, t("history_h")));
}

// --- wiring ------------------------------------------------------------------------------

function wire() {
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "ar" ? "en" : "ar";
    localStorage.setItem("dtm-lang", state.lang);
    applyLang();
  });
  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const key = $("key").value.trim();
    if (key) sessionStorage.setItem(KEY, key);
    $("key").value = "";
    showKeyState();
    for (const id of ["round-msg", "file-msg", "confirm-msg"]) if ($(id).dataset.status) note(id, "");
  });
  $("key-forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    showKeyState();
    $("key").focus();
  });
  $("op").addEventListener("change", () => {
    state.op = $("op").value;
    state.round = null;
    loadRounds();
  });
  $("round").addEventListener("change", () => {
    state.round = $("round").value || null;
    note("round-msg", "");
    renderRounds();
    roundChosen();
    writeUrl();
    if (state.round === NEW) $("nr-code").focus();
  });
  $("nr-kind").addEventListener("change", () => ($("nr-event-field").hidden = $("nr-kind").value === "mobility_tracking"));
  $("new-round").addEventListener("submit", createRound);
  const drop = $("drop");
  drop.addEventListener("click", () => $("file").click());
  drop.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      $("file").click();
    }
  });
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    fileChosen(e.dataTransfer.files[0]);
  });
  $("file").addEventListener("change", () => fileChosen($("file").files[0]));
  // emptied as the chooser opens, so that the same file chosen again (corrected) is
  // checked again
  $("file").addEventListener("click", () => ($("file").value = ""));
  $("check").addEventListener("click", dryRun);
  $("confirm").addEventListener("click", confirmWrite);
  // a setting changed after the dry run: what would be written is no longer what was shown
  for (const id of ["source", "source-url", "quality", "mode"]) $(id).addEventListener("change", clearReport);
}

wire();
applyLang();
loadOps().finally(() => (document.body.dataset.ready = "1"));
