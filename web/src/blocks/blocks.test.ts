import { describe, expect, it } from "vitest";
import { childLevel, colorOf, levelOf, pathOf, RAMP, totals } from "./model";
import { paint } from "./layer";

describe("block levels", () => {
  it("drills from the city to the grid by code length", () => {
    expect(levelOf("")).toBe("city");
    expect(childLevel("")).toBe("county");
    expect(childLevel("360102")).toBe("street");
    expect(childLevel("360102001002")).toBe("grid");
    expect(childLevel("360102001002003")).toBeNull();
    expect(pathOf("360102001002")).toEqual(["", "360102", "360102001", "360102001002"]);
  });

  it("adds categories up per block and colours by value", () => {
    const t = totals([
      { code: "a", value: 2, category: "x", bucket: null },
      { code: "a", value: 3, category: "y", bucket: null },
      { code: "b", value: null, category: null, bucket: null },
    ]);
    expect(t.get("a")).toBe(5);
    expect(t.get("b")).toBe(0);
    expect(colorOf(0, 0, 10)).toBe(RAMP[0]);
    expect(colorOf(10, 0, 10)).toBe(RAMP[RAMP.length - 1]);
  });

  it("paints only the shapes within the region, counting those with a value", () => {
    const shape = (code: string) => ({
      type: "Feature" as const,
      properties: { code },
      geometry: { type: "Point" as const, coordinates: [0, 0] },
    });
    const drawn = paint(
      { type: "FeatureCollection", features: [shape("360102001"), shape("360102002"), shape("360103001")] },
      "360102",
      new Map([["360102001", 4]]),
    );
    expect(drawn.data.features).toHaveLength(2);
    expect(drawn.painted).toBe(1);
  });
});
