// The one HTTP client of the cockpit: adds the bearer token, turns RFC 9457 problem
// responses into `ApiError`s and reports 401 so the shell can show the login form.

import type { FeatureCollection, Geometry } from "geojson";
import { clearToken, getToken, setToken } from "./auth";
import type {
  City,
  ClockInfo,
  LocateResult,
  Me,
  Problem,
  RegionLevel,
  TokenResponse,
} from "./types";

/** An HTTP error carrying the problem details the server sent. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(status: number, problem: Problem) {
    super(problemMessage(status, problem));
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }
}

/** Build the text shown to a person from problem details: `detail` first. */
export function problemMessage(status: number, problem: Problem): string {
  const base = problem.detail || problem.title || `HTTP ${status}`;
  const fields = (problem.errors ?? []).map((e) => `${e.field}: ${e.reason}`);
  return fields.length ? `${base} (${fields.join("; ")})` : base;
}

let onUnauthorized: () => void = () => undefined;

/** Set what happens when the server answers 401 (the shell shows the login form). */
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

/** Read the problem details of a non-OK response (JSON or plain text). */
export async function readProblem(res: Response): Promise<Problem> {
  const type = res.headers.get("content-type") ?? "";
  if (type.includes("json")) {
    try {
      return (await res.json()) as Problem;
    } catch {
      return { status: res.status };
    }
  }
  const text = await res.text().catch(() => "");
  return { status: res.status, detail: text.slice(0, 200) || res.statusText };
}

async function request<T>(path: string, init: RequestInit = {}, auth = true): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json");
  if (auth) {
    const token = getToken();
    if (token) headers.set("Authorization", `Bearer ${token}`);
  }
  const res = await fetch(path, { ...init, headers });
  if (!res.ok) {
    const problem = await readProblem(res);
    if (res.status === 401 && auth) {
      clearToken();
      onUnauthorized();
    }
    throw new ApiError(res.status, problem);
  }
  return (await res.json()) as T;
}

/**
 * Send a request with the bearer token and return the raw response, OK or not, so a
 * caller can treat 404 (an API not deployed yet) quietly. A 401 still ends the session.
 */
export async function fetchAuthorized(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = getToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  const res = await fetch(path, { ...init, headers });
  if (res.status === 401) {
    clearToken();
    onUnauthorized();
  }
  return res;
}

/** Exchange a username and password for a bearer token and store it. */
export async function login(username: string, password: string): Promise<void> {
  const body = new URLSearchParams({ grant_type: "password", username, password });
  const token = await request<TokenResponse>(
    "/api/v1/auth/token",
    {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body,
    },
    false,
  );
  setToken(token.access_token);
}

/** Read the signed-in user. */
export function fetchMe(): Promise<Me> {
  return request<Me>("/api/v1/auth/me");
}

/** Read the city clock. */
export function fetchClock(): Promise<ClockInfo> {
  return request<ClockInfo>("/api/v1/clock");
}

/** Read the city summary. */
export function fetchCity(): Promise<City> {
  return request<City>("/api/v1/city");
}

/** Read the boundaries of one administrative level. */
export function fetchRegions(level: RegionLevel): Promise<FeatureCollection<Geometry>> {
  return request(`/api/v1/city/regions?level=${level}`);
}

/** Read the road network simplified for an integer zoom level. */
export function fetchRoads(zoom: number): Promise<FeatureCollection<Geometry>> {
  return request(`/api/v1/city/roads?zoom=${zoom}`);
}

/** Read all intersections. */
export function fetchIntersections(): Promise<FeatureCollection<Geometry>> {
  return request("/api/v1/city/intersections");
}

/** Find the county, street, community and grid of a point. */
export function locate(lon: number, lat: number): Promise<LocateResult> {
  const q = new URLSearchParams({ lon: lon.toFixed(6), lat: lat.toFixed(6) });
  return request(`/api/v1/city/locate?${q.toString()}`);
}
