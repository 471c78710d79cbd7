// The cockpit's NGSI-LD client: entity types and entities as GeoJSON from the context
// broker at /ngsi-ld/v1 (same origin, same bearer token as /api/v1). No Link header is
// sent, so types and attribute names outside the core @context come back as full IRIs.

import type { Feature, FeatureCollection, Geometry } from "geojson";
import { ApiError, fetchAuthorized, readProblem } from "../api";

export const NGSI_BASE = "/ngsi-ld/v1";
/** The broker serves at most this many entities per page. */
export const PAGE_SIZE = 1000;
/** Stop paging a type after this many entities (the layer is marked truncated). */
export const MAX_FEATURES = 20_000;

/** What GET /types answered: a list, "not there" (404/403/…), or a passing failure. */
export type TypesAnswer =
  | { kind: "ok"; types: string[] }
  | { kind: "missing"; status: number }
  | { kind: "failed"; message: string };

/** Statuses that say the endpoint is not offered to this operator: stop asking. */
const MISSING = new Set([403, 404, 405, 501]);

export type EntityFeature = Feature<Geometry | null, Record<string, unknown> | null>;

/** Read the type names out of an EntityTypeList, or an array of EntityType (details=true). */
export function parseTypeList(body: unknown): string[] {
  const names: string[] = [];
  const add = (v: unknown): void => {
    if (typeof v === "string" && v && !names.includes(v)) names.push(v);
  };
  if (Array.isArray(body)) {
    for (const item of body) {
      if (typeof item === "string") add(item);
      else if (item && typeof item === "object") {
        const o = item as Record<string, unknown>;
        add(o.typeName ?? o.id);
      }
    }
  } else if (body && typeof body === "object") {
    const list = (body as Record<string, unknown>).typeList;
    if (Array.isArray(list)) list.forEach(add);
    else add(list);
  }
  return names;
}

/** Ask the broker which entity types it holds. Never throws, never logs. */
export async function fetchEntityTypes(signal?: AbortSignal): Promise<TypesAnswer> {
  try {
    const res = await fetchAuthorized(`${NGSI_BASE}/types`, {
      headers: { Accept: "application/json" },
      signal,
    });
    if (MISSING.has(res.status)) return { kind: "missing", status: res.status };
    if (!res.ok) {
      const err = new ApiError(res.status, await readProblem(res));
      return { kind: "failed", message: err.message };
    }
    return { kind: "ok", types: parseTypeList(await res.json()) };
  } catch (err) {
    if (isAbort(err)) throw err;
    return { kind: "failed", message: err instanceof Error ? err.message : String(err) };
  }
}

function entitiesUrl(type: string, limit: number, offset: number, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({
    type,
    limit: String(limit),
    offset: String(offset),
    options: "keyValues",
    ...extra,
  });
  return `${NGSI_BASE}/entities?${q.toString()}`;
}

async function failure(res: Response): Promise<ApiError> {
  return new ApiError(res.status, await readProblem(res));
}

/** How many entities of a type the broker holds (NGSILD-Results-Count); null if unknown. */
export async function countEntities(type: string, signal?: AbortSignal): Promise<number | null> {
  try {
    const res = await fetchAuthorized(entitiesUrl(type, 0, 0, { count: "true" }), {
      headers: { Accept: "application/json" },
      signal,
    });
    if (!res.ok) return null;
    const n = Number(res.headers.get("NGSILD-Results-Count"));
    return Number.isFinite(n) && res.headers.has("NGSILD-Results-Count") ? n : null;
  } catch (err) {
    if (isAbort(err)) throw err;
    return null;
  }
}

/** Read one page of a type's entities as GeoJSON features (keyValues). */
export async function fetchEntityPage(
  type: string,
  offset: number,
  limit: number,
  signal?: AbortSignal,
): Promise<EntityFeature[]> {
  const res = await fetchAuthorized(entitiesUrl(type, limit, offset), {
    headers: { Accept: "application/geo+json" },
    signal,
  });
  if (!res.ok) throw await failure(res);
  const body = (await res.json()) as FeatureCollection<Geometry | null> | EntityFeature[];
  const features = Array.isArray(body) ? body : body.features;
  return Array.isArray(features) ? (features as EntityFeature[]) : [];
}

export type PageReader = (offset: number, limit: number) => Promise<EntityFeature[]>;

export interface AllEntities {
  features: EntityFeature[];
  /** True when the cap stopped the paging before the last page. */
  truncated: boolean;
}

/** Page through a type until a page comes back short, or the cap is reached. */
export async function readAllPages(
  read: PageReader,
  pageSize = PAGE_SIZE,
  cap = MAX_FEATURES,
): Promise<AllEntities> {
  const features: EntityFeature[] = [];
  for (let offset = 0; ; ) {
    const limit = Math.min(pageSize, cap - features.length);
    if (limit <= 0) {
      // Full up: truncated only if the broker still has more.
      const more = await read(offset, 1);
      return { features, truncated: more.length > 0 };
    }
    const page = await read(offset, limit);
    features.push(...page.slice(0, limit));
    if (page.length < limit) return { features, truncated: false };
    offset += page.length;
  }
}

/** Read every entity of a type (up to MAX_FEATURES). */
export function fetchAllEntities(type: string, signal?: AbortSignal): Promise<AllEntities> {
  return readAllPages((offset, limit) => fetchEntityPage(type, offset, limit, signal));
}

/** True for the error a fetch throws when its signal is aborted. */
export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === "AbortError";
}
