import { describe, expect, it } from "vitest";
import { CityClock, formatCityTime, formatSpeed } from "./clock";

describe("CityClock", () => {
  it("runs on at the server's speed between polls", () => {
    const clock = new CityClock();
    clock.sync(
      { now: "2025-11-22T08:00:00+08:00", speed: 60, mode: "simulated", timezone: "Asia/Shanghai" },
      1000,
    );
    // Two local seconds at ×60 are two city minutes.
    expect(clock.nowMs(3000) - Date.parse("2025-11-22T08:00:00+08:00")).toBe(120_000);
  });

  it("ignores a reading it cannot parse", () => {
    const clock = new CityClock();
    clock.sync({ now: "not a time", speed: 5, mode: "real", timezone: "Asia/Shanghai" }, 0);
    expect(clock.synced).toBe(false);
    expect(clock.speed).toBe(1);
  });
});

describe("formatCityTime", () => {
  it("shows Shanghai wall time whatever the browser's zone", () => {
    const ms = Date.parse("2025-11-22T00:30:05Z");
    expect(formatCityTime(ms, "Asia/Shanghai", "zh")).toEqual({
      date: "2025-11-22",
      time: "08:30:05",
      weekday: "星期六",
    });
    expect(formatCityTime(ms, "Asia/Shanghai", "en").weekday).toBe("Sat");
  });

  it("crosses midnight into the next city day", () => {
    const ms = Date.parse("2025-12-31T16:00:00Z");
    const out = formatCityTime(ms, "Asia/Shanghai", "zh");
    expect(out.date).toBe("2026-01-01");
    expect(out.time).toBe("00:00:00");
  });
});

describe("formatSpeed", () => {
  it("writes whole and fractional factors", () => {
    expect(formatSpeed(60)).toBe("×60");
    expect(formatSpeed(0.5)).toBe("×0.5");
  });
});
