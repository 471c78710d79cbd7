// A case's timeline as rows of text: when (city time), what was done, the status it
// moved from and to, who did it and what they noted.

import type { Bilingual, Lang } from "../types";
import { STATUS_NAMES } from "./colors";
import type { CaseStep, StepAttachment } from "./types";

export const ACTION_NAMES: Record<string, Bilingual> = {
  report: { zh: "上报", en: "Reported" },
  merge: { zh: "合并上报", en: "Merged report" },
  intake: { zh: "受理", en: "Received" },
  file: { zh: "立案", en: "Filed" },
  reject: { zh: "不予立案", en: "Rejected" },
  dispatch: { zh: "派遣", en: "Dispatched" },
  accept: { zh: "签收", en: "Accepted" },
  return: { zh: "退回", en: "Returned" },
  handle: { zh: "处置反馈", en: "Handled" },
  verify: { zh: "核查通过", en: "Verified" },
  rework: { zh: "核查不通过", en: "Sent back" },
  close: { zh: "结案", en: "Closed" },
  follow_up: { zh: "回访", en: "Followed up" },
  evaluate: { zh: "评价", en: "Evaluated" },
  reopen: { zh: "重办", en: "Reopened" },
  suspend: { zh: "挂起", en: "Suspended" },
  resume: { zh: "恢复", en: "Resumed" },
  supervise: { zh: "督办", en: "Supervised" },
  complete_task: { zh: "联办完成", en: "Joint task done" },
  warn: { zh: "临期预警", en: "Due-soon warning" },
  overdue: { zh: "超期", en: "Overdue" },
  escalate: { zh: "升级", en: "Escalated" },
};

export interface TimelineRow {
  seq: number;
  /** "YYYY-MM-DD HH:mm" in the city's time zone. */
  when: string;
  action: string;
  /** "立案 → 派遣", or just the status reached when the step started none. */
  transition: string;
  actor: string;
  note: string;
  /** Files uploaded to the platform (refs "att-…"), to fetch with the caller's token. */
  files: StepAttachment[];
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Format an ISO instant as "YYYY-MM-DD HH:mm" in a time zone. */
export function formatWhen(iso: string, timeZone: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(new Date(ms))) p[part.type] = part.value;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

function statusName(s: string, lang: Lang): string {
  const n = STATUS_NAMES[s as keyof typeof STATUS_NAMES];
  return n ? n[lang] : s;
}

/** Turn timeline steps into display rows, oldest first. */
export function timelineRows(steps: readonly CaseStep[], lang: Lang, timeZone: string): TimelineRow[] {
  return [...steps]
    .sort((a, b) => a.seq - b.seq)
    .map((s) => {
      const to = statusName(s.to_status, lang);
      const transition =
        s.from_status && s.from_status !== s.to_status ? `${statusName(s.from_status, lang)} → ${to}` : to;
      const actor = s.department_id ? `${s.actor} · ${s.department_id}` : s.actor;
      return {
        seq: s.seq,
        when: formatWhen(s.at, timeZone),
        action: ACTION_NAMES[s.action]?.[lang] ?? s.action,
        transition,
        actor,
        note: s.note,
        files: (s.attachments ?? []).filter((a) => a.ref.startsWith("att-")),
      };
    });
}

/** Say how long ago (or until) an instant is, in hours or days: "3.5 h", "2.0 d". */
export function formatSpan(ms: number): string {
  const h = Math.abs(ms) / 3_600_000;
  return h < 48 ? `${h.toFixed(1)} h` : `${(h / 24).toFixed(1)} d`;
}
