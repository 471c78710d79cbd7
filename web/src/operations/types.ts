// The operations (一网统管) API's bodies as the cockpit reads them (see
// src/opencitybrain/operations/schemas.py).

export type CaseStatus =
  | "reported"
  | "filed"
  | "dispatched"
  | "in_progress"
  | "handled"
  | "verified"
  | "closed"
  | "evaluated"
  | "suspended"
  | "rejected";

export interface CaseItem {
  id: string;
  version: number;
  status: CaseStatus;
  source: string;
  class_code: string;
  title: string;
  description: string;
  urgent: boolean;
  lon: number;
  lat: number;
  county: string;
  street: string;
  community: string;
  grid: string;
  address: string | null;
  department_id: string | null;
  reported_at: string;
  dispatched_at: string | null;
  warn_at: string | null;
  due_at: string | null;
  overdue: boolean;
  supervision: number;
  handled_at: string | null;
  handled_on_time: boolean | null;
  closed_at: string | null;
  satisfaction: number | null;
  reopen_count: number;
}

export interface CaseList {
  items: CaseItem[];
  total: number;
  limit: number;
  offset: number;
}

export interface CaseStep {
  seq: number;
  action: string;
  from_status: CaseStatus | null;
  to_status: CaseStatus;
  actor: string;
  department_id: string | null;
  at: string;
  note: string;
  attachments?: StepAttachment[];
}

/** A file named by a step; refs starting "att-" were uploaded to the platform. */
export interface StepAttachment {
  ref: string;
  media_type: string;
  size: number;
  name?: string | null;
}

export interface CaseDetail {
  case: CaseItem;
  timeline: CaseStep[];
}

/** Supervision figures of one department or district (GET /kpis). */
export interface DeptKpi {
  key: string;
  cases: number;
  handled: number;
  on_time: number;
  on_time_rate: number | null;
  overdue_open: number;
  avg_handling_hours: number | null;
  reopened: number;
  reopen_rate: number | null;
  evaluated: number;
  avg_satisfaction: number | null;
}

/** Statuses of cases still being worked on (drawn on the map). */
export const OPEN_STATUSES: CaseStatus[] = [
  "reported",
  "filed",
  "dispatched",
  "in_progress",
  "handled",
  "verified",
  "suspended",
];
