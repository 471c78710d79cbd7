// Small planar geometry helpers for placing labels (lon/lat treated as planar: good
// enough at city scale for choosing where a name goes).

import type { Geometry, Position } from "geojson";

type Ring = Position[];

function ringArea(ring: Ring): number {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi = 0, yi = 0] = ring[i] ?? [];
    const [xj = 0, yj = 0] = ring[j] ?? [];
    a += xj * yi - xi * yj;
  }
  return a / 2;
}

function ringCentroid(ring: Ring): [number, number] {
  let a = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi = 0, yi = 0] = ring[i] ?? [];
    const [xj = 0, yj = 0] = ring[j] ?? [];
    const f = xj * yi - xi * yj;
    a += f;
    cx += (xi + xj) * f;
    cy += (yi + yj) * f;
  }
  if (Math.abs(a) < 1e-15) {
    const [x = 0, y = 0] = ring[0] ?? [];
    return [x, y];
  }
  return [cx / (3 * a), cy / (3 * a)];
}

/** Return the x where each ring edge crosses the horizontal line y. */
function crossings(rings: Ring[], y: number): number[] {
  const xs: number[] = [];
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi = 0, yi = 0] = ring[i] ?? [];
      const [xj = 0, yj = 0] = ring[j] ?? [];
      if (yi > y !== yj > y) xs.push(xi + ((y - yi) / (yj - yi)) * (xj - xi));
    }
  }
  return xs.sort((a, b) => a - b);
}

/** Choose a point inside a polygon where its name reads well. */
export function polygonLabelPoint(rings: Ring[]): [number, number] {
  const outer = rings[0] ?? [];
  const [cx, cy] = ringCentroid(outer);
  const xs = crossings(rings, cy);
  let best: [number, number] = [cx, cy];
  let bestWidth = -1;
  for (let i = 0; i + 1 < xs.length; i += 2) {
    const a = xs[i] ?? 0;
    const b = xs[i + 1] ?? 0;
    if (cx >= a && cx <= b) return [cx, cy];
    if (b - a > bestWidth) {
      bestWidth = b - a;
      best = [(a + b) / 2, cy];
    }
  }
  return best;
}

/** Choose a label point for a Polygon or MultiPolygon (its largest part); null otherwise. */
export function labelPoint(geometry: Geometry | null): [number, number] | null {
  if (!geometry) return null;
  if (geometry.type === "Polygon") return polygonLabelPoint(geometry.coordinates);
  if (geometry.type === "MultiPolygon") {
    let largest: Ring[] | null = null;
    let largestArea = -1;
    for (const poly of geometry.coordinates) {
      const area = Math.abs(ringArea(poly[0] ?? []));
      if (area > largestArea) {
        largestArea = area;
        largest = poly;
      }
    }
    return largest ? polygonLabelPoint(largest) : null;
  }
  if (geometry.type === "Point") {
    const [x = 0, y = 0] = geometry.coordinates;
    return [x, y];
  }
  return null;
}

/** Clip a ring to an axis-aligned box (Sutherland–Hodgman); may return fewer than 3 points. */
export function clipRing(ring: Ring, [w, s, e, n]: [number, number, number, number]): Ring {
  const edges: [(p: Position) => boolean, (a: Position, b: Position) => Position][] = [
    [(p) => (p[0] ?? 0) >= w, (a, b) => cutX(a, b, w)],
    [(p) => (p[0] ?? 0) <= e, (a, b) => cutX(a, b, e)],
    [(p) => (p[1] ?? 0) >= s, (a, b) => cutY(a, b, s)],
    [(p) => (p[1] ?? 0) <= n, (a, b) => cutY(a, b, n)],
  ];
  let out: Ring = ring;
  for (const [inside, cut] of edges) {
    const input = out;
    out = [];
    for (let i = 0; i < input.length; i++) {
      const cur = input[i] ?? [0, 0];
      const prev = input[(i + input.length - 1) % input.length] ?? [0, 0];
      if (inside(cur)) {
        if (!inside(prev)) out.push(cut(prev, cur));
        out.push(cur);
      } else if (inside(prev)) {
        out.push(cut(prev, cur));
      }
    }
    if (out.length === 0) break;
  }
  return out;
}

function cutX([ax = 0, ay = 0]: Position, [bx = 0, by = 0]: Position, x: number): Position {
  return [x, ay + ((x - ax) / (bx - ax)) * (by - ay)];
}

function cutY([ax = 0, ay = 0]: Position, [bx = 0, by = 0]: Position, y: number): Position {
  return [ax + ((y - ay) / (by - ay)) * (bx - ax), y];
}

/** Choose a label point for the part of a polygon inside a box; null when none shows. */
export function visibleLabelPoint(
  geometry: Geometry | null,
  box: [number, number, number, number],
): [number, number] | null {
  if (!geometry) return null;
  const polys =
    geometry.type === "Polygon"
      ? [geometry.coordinates]
      : geometry.type === "MultiPolygon"
        ? geometry.coordinates
        : [];
  let best: Ring | null = null;
  let bestArea = 0;
  for (const poly of polys) {
    const clipped = clipRing(poly[0] ?? [], box);
    if (clipped.length < 3) continue;
    const area = Math.abs(ringArea(clipped));
    if (area > bestArea) {
      bestArea = area;
      best = clipped;
    }
  }
  return best ? polygonLabelPoint([best]) : null;
}
