import { describe, expect, it } from "vitest";
import { intakeLine, stillRunning, type IntakeStatus } from "./intake";

const base: IntakeStatus = { state: "running", phase: "load", message: "", fraction: 0.424 };

describe("the departments' data intake line", () => {
  it("says the phase and how much of it is done while it runs", () => {
    expect(intakeLine(base)).toBe("部门数据：装载部门表 42%");
    expect(intakeLine({ ...base, phase: "build", fraction: 1.7 })).toBe("部门数据：归集主档 100%");
    expect(stillRunning(base)).toBe(true);
  });

  it("says done or failed once, and nothing when the platform loads none", () => {
    expect(intakeLine({ ...base, state: "done" })).toBe("部门数据：已装载、归集并汇总");
    expect(intakeLine({ ...base, state: "failed", error: "disk full" })).toBe("部门数据：装载失败 (disk full)");
    expect(intakeLine({ ...base, state: "disabled" })).toBeNull();
    expect(intakeLine({ ...base, state: "idle" })).toBeNull();
    expect(stillRunning({ ...base, state: "done" })).toBe(false);
  });
});
