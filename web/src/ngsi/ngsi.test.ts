import { describe, expect, it } from "vitest";
import { parseTypeList, readAllPages, type EntityFeature } from "./client";
import { liveColor, LIVE_PALETTE, shortName, uniqueLabels } from "./names";
import { livePopupHtml, MAX_POPUP_PROPS, popupAttributes, valueText } from "./popup";

function features(n: number, from = 0): EntityFeature[] {
  return Array.from({ length: n }, (_, i) => ({
    type: "Feature",
    id: `urn:ngsi-ld:X:${from + i}`,
    geometry: { type: "Point", coordinates: [115, 28] },
    properties: { type: "X" },
  }));
}

/** A fake broker holding `total` entities; records the (offset, limit) of each call. */
function broker(total: number) {
  const calls: [number, number][] = [];
  const read = (offset: number, limit: number): Promise<EntityFeature[]> => {
    calls.push([offset, limit]);
    return Promise.resolve(features(Math.max(0, Math.min(limit, total - offset)), offset));
  };
  return { calls, read };
}

describe("shortName", () => {
  it("keeps the last path or fragment segment of an IRI", () => {
    expect(shortName("https://opencitybrain.org/ns/TrafficSignal")).toBe("TrafficSignal");
    expect(shortName("https://opencitybrain.org/ns#TrafficSignal")).toBe("TrafficSignal");
    expect(shortName("https://example.org/types/Parking/")).toBe("Parking");
    expect(shortName("urn:ngsi-ld:Vehicle")).toBe("Vehicle");
  });

  it("leaves compact names alone", () => {
    expect(shortName("ParkingSpot")).toBe("ParkingSpot");
  });
});

describe("uniqueLabels", () => {
  it("suffixes clashing short names and keeps labels already given", () => {
    const taken = new Map([["https://a.org/ns/Signal", "Signal"]]);
    const labels = uniqueLabels(["https://b.org/ns/Signal", "https://a.org/ns/Signal", "Spot"], taken);
    expect(labels.get("https://a.org/ns/Signal")).toBe("Signal");
    expect(labels.get("https://b.org/ns/Signal")).toBe("Signal~2");
    expect(labels.get("Spot")).toBe("Spot");
  });
});

describe("liveColor", () => {
  it("cycles through the palette", () => {
    expect(liveColor(0)).toBe(LIVE_PALETTE[0]);
    expect(liveColor(LIVE_PALETTE.length + 1)).toBe(LIVE_PALETTE[1]);
  });
});

describe("parseTypeList", () => {
  it("reads an EntityTypeList", () => {
    const body = { id: "urn:ngsi-ld:EntityTypeList:1", type: "EntityTypeList", typeList: ["A", "https://x/B"] };
    expect(parseTypeList(body)).toEqual(["A", "https://x/B"]);
  });

  it("reads detailed EntityType objects and a single type", () => {
    expect(parseTypeList([{ id: "https://x/A", typeName: "A" }, { id: "https://x/B" }])).toEqual(["A", "https://x/B"]);
    expect(parseTypeList({ typeList: "Only" })).toEqual(["Only"]);
    expect(parseTypeList(null)).toEqual([]);
  });
});

describe("readAllPages", () => {
  it("stops at the first short page", async () => {
    const b = broker(2500);
    const all = await readAllPages(b.read, 1000, 20_000);
    expect(all.features).toHaveLength(2500);
    expect(all.truncated).toBe(false);
    expect(b.calls).toEqual([
      [0, 1000],
      [1000, 1000],
      [2000, 1000],
    ]);
  });

  it("asks one more empty page when the total is a multiple of the page size", async () => {
    const b = broker(2000);
    const all = await readAllPages(b.read, 1000, 20_000);
    expect(all.features).toHaveLength(2000);
    expect(all.truncated).toBe(false);
    expect(b.calls).toHaveLength(3);
  });

  it("truncates at the cap only when more entities remain", async () => {
    const more = await readAllPages(broker(3100).read, 1000, 2500);
    expect(more.features).toHaveLength(2500);
    expect(more.truncated).toBe(true);
    const exact = await readAllPages(broker(2500).read, 1000, 2500);
    expect(exact.features).toHaveLength(2500);
    expect(exact.truncated).toBe(false);
  });
});

describe("popup", () => {
  it("lists attributes but not the type, the location or other geometries", () => {
    const props: Record<string, unknown> = {
      type: "https://x/T",
      location: { type: "Point", coordinates: [1, 2] },
      "https://x/area": { type: "Polygon", coordinates: [] },
      "https://x/status": "ok",
    };
    expect(popupAttributes(props)).toEqual({ rows: [["https://x/status", "ok"]], more: 0 });
  });

  it("shows at most 8 attributes and counts the rest", () => {
    const props = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, i]));
    const { rows, more } = popupAttributes(props);
    expect(rows).toHaveLength(MAX_POPUP_PROPS);
    expect(more).toBe(3);
  });

  it("formats values as short text", () => {
    expect(valueText(null)).toBe("—");
    expect(valueText(1234.5)).toBe("1,234.5");
    expect(valueText({ json: { N: "1" } })).toBe('{"json":{"N":"1"}}');
    expect(valueText("x".repeat(500)).length).toBeLessThanOrEqual(120);
  });

  it("escapes everything that comes from the broker", () => {
    const html = livePopupHtml({
      id: "urn:<b>x</b>",
      type: "https://x/T\"><img src=x onerror=alert(1)>",
      label: "<T>",
      color: "#37e6a0",
      properties: { "<k>": "<script>alert(1)</script>" },
    });
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<b>x");
    expect(html).toContain("&lt;script&gt;");
    expect(html).toContain("&lt;T&gt;");
  });
});
