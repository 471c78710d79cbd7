import { describe, expect, it } from "vitest";
import {
  CLASS_COLORS,
  classColor,
  countByClass,
  interpolateTrack,
  parseVehicles,
  tweenPositions,
  type TrackAnswer,
} from "./model";
import { playbackRate } from "./playback";

const POINTS: TrackAnswer["points"] = [
  [100, 115.9, 28.6, 30, 90],
  [110, 116.0, 28.7, 50, 45],
  [130, 116.0, 28.9, 10, 0],
];

describe("track interpolation", () => {
  it("is exact at recorded points and linear between them", () => {
    expect(interpolateTrack(POINTS, 110)).toMatchObject({ lon: 116.0, lat: 28.7, speed: 50 });
    const mid = interpolateTrack(POINTS, 105);
    expect(mid?.lon).toBeCloseTo(115.95);
    expect(mid?.lat).toBeCloseTo(28.65);
    expect(mid?.speed).toBeCloseTo(40);
    expect(interpolateTrack(POINTS, 120)?.lat).toBeCloseTo(28.8);
  });

  it("clamps outside the track and answers null for no points", () => {
    expect(interpolateTrack(POINTS, 0)).toMatchObject({ t: 100, lon: 115.9 });
    expect(interpolateTrack(POINTS, 1e9)).toMatchObject({ t: 130, lat: 28.9 });
    expect(interpolateTrack([], 5)).toBeNull();
    expect(interpolateTrack([[5, 1, 2, 0, 0]], 9)).toMatchObject({ lon: 1, lat: 2 });
  });

  it("stays on the segment for every time between two points", () => {
    for (let t = 100; t <= 130; t += 0.5) {
      const p = interpolateTrack(POINTS, t);
      expect(p).not.toBeNull();
      expect(p?.lon).toBeGreaterThanOrEqual(115.9 - 1e-9);
      expect(p?.lon).toBeLessThanOrEqual(116.0 + 1e-9);
      expect(p?.lat).toBeGreaterThanOrEqual(28.6 - 1e-9);
      expect(p?.lat).toBeLessThanOrEqual(28.9 + 1e-9);
    }
  });

  it("plays at ×60 at least, any track in about twenty seconds", () => {
    expect(playbackRate(60)).toBe(60);
    expect(playbackRate(36_000)).toBe(1800);
  });
});

describe("vehicles", () => {
  const entity = {
    id: "urn:ngsi-ld:Vehicle:fleet:SIM0025",
    type: "Vehicle",
    vehiclePlateIdentifier: { type: "Property", value: "赣A12345" },
    fleetClass: { type: "Property", value: "taxi" },
    location: { type: "GeoProperty", value: { type: "Point", coordinates: [115.88, 28.67] }, observedAt: "2026-01-01T00:00:00Z" },
    speed: { type: "Property", value: 30.5 },
    heading: { type: "Property", value: 90 },
    serviceStatus: { type: "Property", value: "onRoute" },
  };

  it("flattens normalized Vehicle entities and drops those without a point", () => {
    const vs = parseVehicles([entity, { id: "urn:ngsi-ld:Vehicle:fleet:X", type: "Vehicle" }]);
    expect(vs).toEqual([
      {
        deviceId: "SIM0025", plate: "赣A12345", vclass: "taxi", lon: 115.88, lat: 28.67,
        observedAt: "2026-01-01T00:00:00Z", speed: 30.5, heading: 90, onDuty: true,
      },
    ]);
  });

  it("colours and counts by class, unknown classes last", () => {
    expect(classColor("hazmat")).toBe(CLASS_COLORS.hazmat);
    expect(classColor("tank")).not.toBe(CLASS_COLORS.hazmat);
    const counts = countByClass([
      ...parseVehicles([entity, entity]),
      { ...parseVehicles([entity])[0]!, vclass: "tank" },
    ]);
    expect(counts.find((c) => c.vclass === "taxi")?.n).toBe(2);
    expect(counts.at(-1)).toEqual({ vclass: "tank", n: 1 });
    expect(counts.slice(0, 5).map((c) => c.vclass)).toEqual(["muck", "hazmat", "school_bus", "bus", "taxi"]);
  });
});

describe("vehicle tween", () => {
  it("glides known vehicles from where they were shown and places new ones at once", () => {
    const [v] = parseVehicles([
      {
        id: "urn:ngsi-ld:Vehicle:fleet:A",
        location: { value: { type: "Point", coordinates: [116, 29] } },
      },
    ]);
    const b = { ...v!, deviceId: "B", lon: 5, lat: 6 };
    const from = new Map<string, [number, number]>([["A", [115, 28]]]);
    expect(tweenPositions(from, [v!, b], 0.5)).toEqual(
      new Map([
        ["A", [115.5, 28.5]],
        ["B", [5, 6]],
      ]),
    );
    expect(tweenPositions(from, [v!], 2).get("A")).toEqual([116, 29]);
    expect(tweenPositions(from, [v!], -1).get("A")).toEqual([115, 28]);
    // A vehicle no longer reported leaves the map.
    expect(tweenPositions(from, [], 0.5).size).toBe(0);
  });
});
