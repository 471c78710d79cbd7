import { describe, expect, it } from "vitest";
import { problemMessage } from "./api";

describe("problemMessage", () => {
  it("shows the problem's detail and its field errors", () => {
    expect(
      problemMessage(422, {
        title: "Invalid input",
        detail: "参数无效",
        errors: [{ field: "zoom", reason: "must be an integer" }],
      }),
    ).toBe("参数无效 (zoom: must be an integer)");
  });

  it("falls back to the title, then the status", () => {
    expect(problemMessage(500, { title: "Server error" })).toBe("Server error");
    expect(problemMessage(502, {})).toBe("HTTP 502");
  });
});
