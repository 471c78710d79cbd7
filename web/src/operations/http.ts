// A quiet JSON read for capability panels: a 403/404 answer ("not for this operator" or
// "not wired here") is a value, not an exception, so the panel can hide itself.

import { ApiError, fetchAuthorized, readProblem } from "../api";

export type Answer<T> =
  | { kind: "ok"; value: T }
  | { kind: "missing"; status: number }
  | { kind: "failed"; message: string };

const MISSING = new Set([403, 404, 405, 501]);

/** GET a JSON document; never throws except on abort. */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<Answer<T>> {
  try {
    const res = await fetchAuthorized(path, { headers: { Accept: "application/json" }, signal });
    if (MISSING.has(res.status)) return { kind: "missing", status: res.status };
    if (!res.ok) return { kind: "failed", message: new ApiError(res.status, await readProblem(res)).message };
    return { kind: "ok", value: (await res.json()) as T };
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    return { kind: "failed", message: err instanceof Error ? err.message : String(err) };
  }
}
