// Shapes of the /api/v1 JSON the cockpit reads. Kept in one place so a change in the
// API shows up as a type error here first.

export type Lang = "zh" | "en";

/** A text in both UI languages. */
export interface Bilingual {
  zh: string;
  en: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
}

export interface Department {
  id: string;
  name_zh: string;
  name_en: string;
}

export interface Me {
  id: string;
  username: string;
  display_name: string;
  department: Department | null;
  roles: string[];
  permissions: string[];
}

export interface ClockInfo {
  now: string;
  speed: number;
  mode: "real" | "simulated";
  timezone: string;
}

export interface CityStats {
  counties: number;
  streets: number;
  communities: number;
  grids: number;
  intersections: number;
  signalized: number;
  road_edges: number;
  road_km: number;
  area_km2: number;
}

export interface CountySummary {
  code: string;
  name_zh: string;
  name_en?: string;
  area_km2: number;
  intersections: number;
  signalized: number;
  road_km: number;
}

export type RoadClass = "expressway" | "arterial" | "collector" | "local";

export interface RoadClassSummary {
  class: RoadClass;
  name_zh: string;
  name_en: string;
  km: number;
}

export interface City {
  code: string;
  name_zh: string;
  name_en: string;
  center: [number, number];
  bbox: [number, number, number, number];
  stats: CityStats;
  counties: CountySummary[];
  road_classes: RoadClassSummary[];
}

export interface RegionRef {
  code: string;
  name_zh: string;
}

export interface LocateResult {
  county: RegionRef | null;
  street: RegionRef | null;
  community: RegionRef | null;
  grid: { code: string } | null;
}

export type RegionLevel = "county" | "street" | "community";

/** RFC 9457 problem details as the API sends them. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  errors?: { field: string; reason: string }[];
}
