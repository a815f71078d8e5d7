/* The service's API as the page reads it: GET JSON, each URL fetched once. */
import { data } from "./store.js";

const cache = new Map();

// every API request names the page's operation (a round code or pcode is looked up in it)
export function opPath(path) {
  if (!data.op || !path.startsWith("/api/v1/") || path.startsWith("/api/v1/operations")) return path;
  return path + (path.includes("?") ? "&" : "?") + "operation=" + data.op.operation;
}

export async function api(path) {
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

/** An answer whose refusal the page reads too (its status and problem body), not cached. */
export async function answer(path) {
  const res = await fetch(opPath(path), { headers: { Accept: "application/json" } });
  let body = null;
  try { body = await res.json(); } catch (_) { body = null; }
  return { ok: res.ok, status: res.status, body };
}
