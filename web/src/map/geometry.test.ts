import { describe, expect, it } from "vitest";
import { clipRing, labelPoint, polygonLabelPoint, visibleLabelPoint } from "./geometry";

describe("polygonLabelPoint", () => {
  it("uses the centroid of a square", () => {
    const sq = [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]];
    expect(polygonLabelPoint(sq)).toEqual([1, 1]);
  });

  it("moves inside when the centroid falls outside a U shape", () => {
    // A U open to the north: its centroid lies in the gap between the arms.
    const u = [[[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3], [0, 0]]];
    const [x, y] = polygonLabelPoint(u);
    const inLeftArm = x > 0 && x < 1;
    const inRightArm = x > 2 && x < 3;
    const inBase = y > 0 && y < 1;
    expect(inLeftArm || inRightArm || inBase).toBe(true);
  });
});

describe("labelPoint", () => {
  it("picks the largest part of a MultiPolygon", () => {
    const mp = {
      type: "MultiPolygon" as const,
      coordinates: [
        [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
        [[[10, 10], [20, 10], [20, 20], [10, 20], [10, 10]]],
      ],
    };
    expect(labelPoint(mp)).toEqual([15, 15]);
  });

  it("returns null for lines", () => {
    expect(labelPoint({ type: "LineString", coordinates: [[0, 0], [1, 1]] })).toBeNull();
  });
});

describe("visibleLabelPoint", () => {
  const big = {
    type: "Polygon" as const,
    coordinates: [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]],
  };

  it("labels the visible part of a polygon that overflows the view", () => {
    expect(visibleLabelPoint(big, [8, 8, 20, 20])).toEqual([9, 9]);
  });

  it("returns null when the polygon is out of view", () => {
    expect(visibleLabelPoint(big, [11, 11, 20, 20])).toBeNull();
  });

  it("clips a ring to a box", () => {
    const ring = clipRing(big.coordinates[0] ?? [], [5, 5, 15, 15]);
    const xs = ring.map((p) => p[0] ?? 0);
    expect(Math.min(...xs)).toBe(5);
    expect(Math.max(...xs)).toBe(10);
  });
});
