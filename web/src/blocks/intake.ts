// Where loading the departments' data stands (GET /api/v1/registry/intake): the demo
// generates, loads, resolves and aggregates them in the background after it starts.

import { pick } from "../i18n";
import type { Bilingual } from "../types";

export interface IntakeStatus {
  state: "idle" | "disabled" | "running" | "done" | "failed";
  phase: "generate" | "load" | "build" | "aggregate" | null;
  message: string;
  fraction: number;
  error?: string | null;
}

const PHASE: Record<string, Bilingual> = {
  generate: { zh: "生成部门数据", en: "generating" },
  load: { zh: "装载部门表", en: "loading tables" },
  build: { zh: "归集主档", en: "resolving registries" },
  aggregate: { zh: "汇总块数据", en: "aggregating blocks" },
};
const LABEL: Bilingual = { zh: "部门数据", en: "Departments' data" };
const DONE: Bilingual = { zh: "已装载、归集并汇总", en: "loaded, resolved and aggregated" };
const FAILED: Bilingual = { zh: "装载失败", en: "intake failed" };

/** The line the registry panel shows, or null when there is nothing to say. */
export function intakeLine(s: IntakeStatus): string | null {
  if (s.state === "running") {
    const phase = s.phase ? pick(PHASE[s.phase] ?? { zh: s.phase, en: s.phase }) : "";
    const pct = Math.round(Math.min(1, Math.max(0, s.fraction)) * 100);
    return `${pick(LABEL)}：${phase} ${pct}%`;
  }
  if (s.state === "done") return `${pick(LABEL)}：${pick(DONE)}`;
  if (s.state === "failed") return `${pick(LABEL)}：${pick(FAILED)}${s.error ? ` (${s.error})` : ""}`;
  return null;
}

/** Whether the panel should ask again (only while the intake runs). */
export function stillRunning(s: IntakeStatus): boolean {
  return s.state === "running";
}
