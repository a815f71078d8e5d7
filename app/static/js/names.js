/* Areas by name: the search list (English and Arabic) and the lookup behind "Find an area". */
import { api, opPath } from "./api.js";
import { $, el } from "./dom.js";
import { setLabels } from "./mapview.js";
import { data } from "./store.js";
import { name } from "./text.js";

// a muhalla is listed with its baladiya: many share a name (with each other, or with
// the baladiya they are in)
export function searchLabel(a, lang) {
  const own = lang ? a["name_" + lang] || a.name_en : name(a);
  if (a.level !== 3) return own;
  return `${own} (${lang ? a["parent_name_" + lang] || a.parent_name_en : name(a, "parent_")})`;
}

export function fillDatalist() {
  $("area-names").replaceChildren(...data.areas.map((a) => el("option", { value: searchLabel(a) })));
}

// the level-3 names (Libya's 663 muhallas, 23 KB) only once someone searches or zooms
// in close enough to read them, not with the first map
let muhallaNames = null;
export function loadMuhallaNames() {
  const op = data.op;
  muhallaNames = muhallaNames || api("/api/v1/areas?level=3").then((l3) => {
    if (data.op !== op) return;
    data.areas = [...data.areas.filter((a) => a.level !== 3), ...l3.data];
    fillDatalist();
    setLabels();
  }).catch(() => { muhallaNames = null; });
  return muhallaNames;
}
export function forgetMuhallaNames() { muhallaNames = null; }

/** The area a person means by a name, in English or Arabic, or null. */
export async function findArea(q) {
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
  return hit || null;
}
