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
