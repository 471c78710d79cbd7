// HTTP reads of block data, region boundaries and the registry, through the one client.

import type { FeatureCollection, Geometry } from "geojson";
import { fetchAuthorized, readProblem, ApiError } from "../api";
import type { IntakeStatus } from "./intake";
import type { BlockLevel, BlocksResult } from "./model";

async function json<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json");
  const res = await fetchAuthorized(path, { ...init, headers });
  if (!res.ok) throw new ApiError(res.status, await readProblem(res));
  return (await res.json()) as T;
}

/** Read a resource's blocks at a level within a region. */
export function fetchBlocks(
  resource: string,
  level: BlockLevel,
  within: string,
  op: string,
  field: string,
): Promise<BlocksResult> {
  const q = new URLSearchParams({ level, within, op });
  if (op !== "count" && field) q.set("field", field);
  return json(`/api/v1/blocks/${encodeURIComponent(resource)}?${q.toString()}`);
}

export interface ResourceItem {
  id: string;
  name_zh: string;
  name_en: string;
  fields: { name: string; data_type: string; name_zh: string }[];
}

/** List catalogue resources (id, names, fields) to pick from. */
export async function fetchResources(): Promise<ResourceItem[]> {
  const found = await json<{ items: { resource: ResourceItem }[] }>(
    "/api/v1/catalog/resources?limit=100",
  );
  return found.items.map((hit) => hit.resource);
}

/** Region boundaries of a level (grids: those inside a bbox). */
export function fetchShapes(
  level: BlockLevel,
  bbox: [number, number, number, number] | null,
): Promise<FeatureCollection<Geometry>> {
  if (level === "grid") {
    const box = (bbox ?? [0, 0, 0, 0]).map((v) => v.toFixed(5)).join(",");
    return json(`/api/v1/city/grids?bbox=${box}`);
  }
  return json(`/api/v1/city/regions?level=${level}`);
}

export type RegistryKind = "people" | "companies" | "vehicles";

/** Look a golden record up by its key (masked by the server per the caller's grant). */
export function fetchGolden(kind: RegistryKind, code: string): Promise<Record<string, unknown>> {
  return json(`/api/v1/registry/${kind}/records/${encodeURIComponent(code.trim())}`);
}

export interface ReviewItem {
  id: string;
  golden_id: string;
  attribute: string;
  status: string;
  options: { value: string; sources: string[]; chosen: boolean }[];
}

/** A page of the conflict review queue. */
export function fetchReview(kind: RegistryKind): Promise<{ total: number; items: ReviewItem[] }> {
  return json(`/api/v1/registry/${kind}/review?status=open&limit=20`);
}

/** Resolve a conflict by picking a value with a reason. */
export function resolveItem(
  kind: RegistryKind,
  item: string,
  value: string,
  reason: string,
): Promise<ReviewItem> {
  return json(`/api/v1/registry/${kind}/review/${encodeURIComponent(item)}/resolve`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ value, reason }),
  });
}

/** Where loading the departments' data stands (the demo's background intake). */
export function fetchIntake(): Promise<IntakeStatus> {
  return json("/api/v1/registry/intake");
}
