import { describe, expect, it } from "vitest";
import { casesQuery } from "./client";
import { caseColors, LATENESS_COLORS, lateness, STATUS_COLORS } from "./colors";
import { flowByDepartment, gridHeat, kpisFromCases, overallOnTime } from "./figures";
import { formatWhen, timelineRows } from "./timeline";
import type { CaseItem, CaseStep } from "./types";

const NOW = Date.parse("2026-03-02T08:00:00Z");

function item(over: Partial<CaseItem> = {}): CaseItem {
  return {
    id: "C1", version: 1, status: "dispatched", source: "cockpit", class_code: "C0202",
    title: "t", description: "d", urgent: false, lon: 115.9, lat: 28.68, county: "360102",
    street: "", community: "", grid: "g1", address: null, department_id: "transport",
    reported_at: "2026-03-01T00:00:00Z", dispatched_at: "2026-03-01T01:00:00Z",
    warn_at: "2026-03-02T06:00:00Z", due_at: "2026-03-02T12:00:00Z", overdue: false,
    supervision: 0, handled_at: null, handled_on_time: null, closed_at: null,
    satisfaction: null, reopen_count: 0, ...over,
  };
}

describe("case colours", () => {
  it("rings by lateness: overdue beats near-due beats on time", () => {
    expect(lateness(item({ overdue: true }), NOW)).toBe("overdue");
    expect(lateness(item(), NOW)).toBe("warning");
    expect(lateness(item({ warn_at: "2026-03-02T09:00:00Z" }), NOW)).toBe("on_time");
    expect(lateness(item({ warn_at: null, due_at: "2026-03-02T07:59:00Z" }), NOW)).toBe("overdue");
    expect(lateness(item({ warn_at: null, due_at: null }), NOW)).toBe("on_time");
  });

  it("never calls a finished case late", () => {
    for (const status of ["handled", "verified", "closed", "evaluated", "rejected"] as const) {
      expect(lateness(item({ status, overdue: true }), NOW)).toBe("done");
    }
  });

  it("fills by status and rings by lateness", () => {
    const c = caseColors(item({ status: "in_progress", overdue: true }), NOW);
    expect(c.fill).toBe(STATUS_COLORS.in_progress);
    expect(c.ring).toBe(LATENESS_COLORS.overdue);
    expect(new Set(Object.values(STATUS_COLORS)).size).toBeGreaterThanOrEqual(8);
  });
});

describe("timeline", () => {
  const steps: CaseStep[] = [
    { seq: 2, action: "dispatch", from_status: "filed", to_status: "dispatched", actor: "operator",
      department_id: "transport", at: "2026-03-01T01:00:00Z", note: "" },
    { seq: 1, action: "file", from_status: "reported", to_status: "filed", actor: "operator",
      department_id: null, at: "2026-03-01T00:30:00Z", note: "立案" },
    { seq: 3, action: "mystery", from_status: "dispatched", to_status: "dispatched", actor: "x",
      department_id: null, at: "2026-03-01T02:00:00Z", note: "" },
  ];

  it("formats in the city's time zone", () => {
    expect(formatWhen("2026-03-01T16:30:00Z", "Asia/Shanghai")).toBe("2026-03-02 00:30");
    expect(formatWhen("garbage", "Asia/Shanghai")).toBe("garbage");
  });

  it("orders by seq and names actions and statuses in the language asked", () => {
    const zh = timelineRows(steps, "zh", "Asia/Shanghai");
    expect(zh.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(zh[0]).toMatchObject({ when: "2026-03-01 08:30", action: "立案", transition: "信息采集 → 立案", note: "立案" });
    expect(zh[1]?.actor).toBe("operator · transport");
    expect(zh[2]).toMatchObject({ action: "mystery", transition: "派遣" });
    const en = timelineRows(steps, "en", "UTC");
    expect(en[1]).toMatchObject({ when: "2026-03-01 01:00", action: "Dispatched", transition: "Filed → Dispatched" });
  });
});

describe("figures", () => {
  it("computes per-department figures like GET /kpis", () => {
    const rows = kpisFromCases([
      item({ handled_on_time: true, handled_at: "2026-03-01T03:00:00Z", satisfaction: 5 }),
      item({ handled_on_time: false, handled_at: "2026-03-01T05:00:00Z", reopen_count: 1, satisfaction: 3 }),
      item({ department_id: "water" }),
      item({ department_id: null }),
    ]);
    expect(rows.map((r) => r.key)).toEqual(["transport", "water"]);
    const t = rows[0];
    expect(t).toMatchObject({ cases: 2, handled: 2, on_time: 1, on_time_rate: 0.5, reopened: 1, reopen_rate: 0.5 });
    expect(t?.avg_handling_hours).toBeCloseTo(3);
    expect(t?.avg_satisfaction).toBeCloseTo(4);
    expect(rows[1]).toMatchObject({ handled: 0, on_time_rate: null, avg_handling_hours: null });
    expect(overallOnTime(rows)).toBe(0.5);
    expect(overallOnTime([])).toBeNull();
  });

  it("counts cases per grid at the mean of their points", () => {
    const fc = gridHeat([item({ lon: 1, lat: 1 }), item({ lon: 3, lat: 3 }), item({ grid: "g2" })]);
    const g1 = fc.features.find((f) => f.properties?.grid === "g1");
    expect(g1?.properties?.count).toBe(2);
    expect(g1?.geometry.coordinates).toEqual([2, 2]);
    expect(fc.features.reduce((s, f) => s + Number(f.properties?.count), 0)).toBe(3);
  });

  it("asks for repeated statuses and the overdue filter", () => {
    expect(casesQuery({ status: ["filed", "dispatched"], overdue: true, limit: 1 })).toBe(
      "status=filed&status=dispatched&overdue=true&limit=1",
    );
  });
});

describe("business flow", () => {
  it("counts each department's open cases by stage, busiest first", () => {
    const flow = flowByDepartment([
      item({ department_id: "transport", status: "dispatched" }),
      item({ department_id: "transport", status: "in_progress" }),
      item({ department_id: "transport", status: "in_progress" }),
      item({ department_id: "urban-management", status: "handled" }),
      item({ department_id: "urban-management", status: "closed" }),
      item({ department_id: null, status: "reported" }),
    ]);
    expect(flow.departments).toEqual(["transport", "urban-management"]);
    expect(flow.counts.in_progress).toEqual([2, 0]);
    expect(flow.counts.dispatched).toEqual([1, 0]);
    expect(flow.counts.handled).toEqual([0, 1]);
    expect(flowByDepartment([]).departments).toEqual([]);
  });
});

describe("timeline attachments", () => {
  it("offers only files uploaded to the platform", () => {
    const step = {
      seq: 1, action: "handle", from_status: "in_progress", to_status: "handled", actor: "staff-1",
      department_id: "transport", at: "2026-03-01T02:00:00Z", note: "done",
      attachments: [
        { ref: "att-0123456789abcdef0123456789abcdef", media_type: "image/jpeg", size: 10, name: "p.jpg" },
        { ref: "https://img.example.cn/a.jpg", media_type: "text/uri-list", size: 1 },
      ],
    } as const;
    const [row] = timelineRows([{ ...step, attachments: [...step.attachments] }], "zh", "Asia/Shanghai");
    expect(row?.files.map((f) => f.name)).toEqual(["p.jpg"]);
    expect(timelineRows([{ ...step, attachments: undefined }], "zh", "Asia/Shanghai")[0]?.files).toEqual([]);
  });
});
