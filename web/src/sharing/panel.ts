// 「数据共享」: the provider's inbox of requests with the answer's countdown (10 working
// days, on the city clock), the department's own requests and their status, the grants it
// holds or gave, and — for auditors — the state of the audit chain. Hidden without
// sharing:request or audit:read.

import { fetchClock } from "../api";
import { CityClock } from "../clock";
import type { CockpitContext } from "../context";
import { esc } from "../format";
import { pick } from "../i18n";
import { errorText } from "../notify";
import { registerPanel } from "../panels/registry";
import { hook } from "../testHook";
import {
  approve,
  fetchAudit,
  fetchGrants,
  fetchRequests,
  refuse,
  revoke,
  verifyAudit,
  type AuditRecord,
  type SharingGrant,
  type SharingRequest,
  type Verdict,
} from "./client";
import { countdown, decidable } from "./model";
import { fetchReleases, releaseItems, type OpenRelease } from "./releases";
import "./sharing.css";

const TEXT = {
  title: { zh: "数据共享", en: "Data sharing" },
  inbox: { zh: "待审批", en: "Inbox" },
  mine: { zh: "我的申请", en: "My requests" },
  grants: { zh: "授权", en: "Grants" },
  audit: { zh: "审计链", en: "Audit" },
  open: { zh: "数据开放", en: "Open data" },
  approve: { zh: "同意", en: "Approve" },
  refuse: { zh: "拒绝", en: "Refuse" },
  revoke: { zh: "撤销", en: "Revoke" },
  reason: { zh: "理由", en: "Reason" },
  empty: { zh: "暂无", en: "None" },
  left: { zh: "剩余", en: "left" },
  overdue: { zh: "已逾期", en: "overdue" },
  intact: { zh: "审计链完整", en: "Chain intact" },
  broken: { zh: "审计链异常", en: "Chain broken" },
  records: { zh: "记录", en: "records" },
  checkpoints: { zh: "签名检查点", en: "signed checkpoints" },
  verify: { zh: "重新校验", en: "Verify again" },
  expires: { zh: "到期", en: "expires" },
  revoked: { zh: "已撤销", en: "revoked" },
};
const STATUS: Record<string, { zh: string; en: string }> = {
  pending: { zh: "待审批", en: "pending" },
  escalated: { zh: "已督办", en: "escalated" },
  granted: { zh: "已授权", en: "granted" },
  refused: { zh: "已拒绝", en: "refused" },
};

export interface SharingHook {
  inbox: string[];
  mine: string[];
  grants: string[];
  audit: "ok" | "bad" | null;
  auditRecords: number;
  releases?: string[];
}

function sharingHook(): SharingHook {
  const h = hook() as ReturnType<typeof hook> & { sharing?: SharingHook };
  h.sharing ??= { inbox: [], mine: [], grants: [], audit: null, auditRecords: 0 };
  return h.sharing;
}

function day(iso: string): string {
  return iso.slice(0, 10);
}

function requestItem(r: SharingRequest, now: number, canDecide: boolean): string {
  const left = countdown(r.due_at, now);
  const due = r.due_at && (r.status === "pending" || r.status === "escalated")
    ? `<span class="sharing-due${left.overdue ? " overdue" : ""}" data-testid="sharing-due">${esc(left.overdue ? pick(TEXT.overdue) : pick(TEXT.left))} ${esc(left.text)}</span>`
    : "";
  const actions = canDecide
    ? `<div class="sharing-actions">
         <input class="sharing-reason" placeholder="${esc(pick(TEXT.reason))}" aria-label="${esc(pick(TEXT.reason))}">
         <button type="button" data-act="approve">${esc(pick(TEXT.approve))}</button>
         <button type="button" data-act="refuse">${esc(pick(TEXT.refuse))}</button>
       </div>`
    : "";
  return `<li data-request="${esc(r.id)}" data-status="${esc(r.status)}">
      <div class="sharing-line"><b>${esc(r.requester_department)} → ${esc(r.provider_department)}</b>
        <span class="sharing-status s-${esc(r.status)}">${esc(pick(STATUS[r.status] ?? { zh: r.status, en: r.status }))}</span>${due}</div>
      <div class="sharing-sub">${esc(r.purpose)} · ${esc(r.scenario)} · ${esc(r.fields.join(", "))}</div>
      ${actions}
    </li>`;
}

function grantItem(g: SharingGrant, mayRevoke: boolean): string {
  const state = g.revoked_at ? `<span class="sharing-status s-refused">${esc(pick(TEXT.revoked))}</span>` : "";
  const action = mayRevoke && !g.revoked_at
    ? `<button type="button" data-act="revoke">${esc(pick(TEXT.revoke))}</button>`
    : "";
  return `<li data-grant="${esc(g.id)}">
      <div class="sharing-line"><b>${esc(g.provider_department)} → ${esc(g.department_id)}</b>${state}${action}</div>
      <div class="sharing-sub">${esc(g.purpose)} · ${esc(g.fields.join(", "))}${g.cleared.length ? ` · 明文 ${esc(g.cleared.join(", "))}` : ""} · ${esc(pick(TEXT.expires))} ${esc(day(g.expires_at))}</div>
    </li>`;
}

function auditView(v: Verdict): string {
  const ok = v.ok
    ? `<b class="sharing-ok">✔ ${esc(pick(TEXT.intact))}</b>`
    : `<b class="sharing-bad">✖ ${esc(pick(TEXT.broken))} · #${esc(String(v.first_bad_seq))} ${esc(pick({ zh: v.reason_zh, en: v.reason }))}</b>`;
  return `${ok}<div class="sharing-sub">${esc(String(v.records))} ${esc(pick(TEXT.records))} · ${esc(String(v.checkpoints))} ${esc(pick(TEXT.checkpoints))} · head ${esc(v.head_hash.slice(0, 12))}…</div>`;
}

const KINDS: Record<string, { zh: string; en: string }> = {
  requested: { zh: "申请", en: "requested" },
  granted: { zh: "授权", en: "granted" },
  refused: { zh: "拒绝", en: "refused" },
  escalated: { zh: "督办", en: "escalated" },
  revoked: { zh: "撤销", en: "revoked" },
  read: { zh: "读取", en: "read" },
  read_refused: { zh: "拒绝读取", en: "read refused" },
  request_refused: { zh: "申请无效", en: "request refused" },
  released: { zh: "开放发布", en: "released" },
  release_refused: { zh: "开放无效", en: "release refused" },
};

function timeline(records: AuditRecord[]): string {
  return `<ol class="sharing-timeline" data-testid="sharing-timeline">${records
    .map((r) => `<li data-seq="${r.seq}"><b>#${r.seq}</b> ${esc(r.at.slice(5, 16).replace("T", " "))} · ${esc(pick(KINDS[r.kind] ?? { zh: r.kind, en: r.kind }))} · ${esc(r.department || r.actor)}${r.kind === "read" ? ` · ${r.row_count}` : ""}<div class="sharing-sub">${esc(r.purpose)} · ${esc(r.fields)}</div></li>`)
    .join("")}</ol>`;
}

function renderSharing(el: HTMLElement, ctx: CockpitContext): void | (() => void) {
  const panel = el.closest<HTMLElement>(".panel");
  const perms = new Set(ctx.me.permissions);
  const canRequest = perms.has("sharing:request");
  const canAudit = perms.has("audit:read");
  if (!canRequest && !canAudit) {
    if (panel) panel.hidden = true;
    return;
  }
  const bureau = ctx.me.roles.includes("bureau_admin");
  const department = ctx.me.department?.id ?? null;
  const tabs = [
    ...(canRequest ? (["inbox", "mine", "grants", "open"] as const) : []),
    ...(canAudit ? (["audit"] as const) : []),
  ];
  let tab: (typeof tabs)[number] = tabs[0] ?? "audit";
  el.classList.add("sharing-body");
  el.innerHTML = `
    <nav class="sharing-tabs" role="tablist">${tabs
      .map((k) => `<button type="button" role="tab" data-tab="${k}" data-testid="sharing-tab-${k}">${esc(pick(TEXT[k]))}</button>`)
      .join("")}</nav>
    <div class="sharing-status-line" data-testid="sharing-status"></div>
    <ul class="sharing-list" data-testid="sharing-list"></ul>
    <div class="sharing-audit" data-testid="sharing-audit" hidden></div>`;
  const status = el.querySelector<HTMLElement>("[data-testid=sharing-status]")!;
  const list = el.querySelector<HTMLUListElement>("[data-testid=sharing-list]")!;
  const audit = el.querySelector<HTMLElement>("[data-testid=sharing-audit]")!;
  const h = sharingHook();
  const clock = new CityClock();
  let requests: SharingRequest[] = [];
  let grants: SharingGrant[] = [];
  let releases: OpenRelease[] = [];
  let seq = 0;

  const draw = (): void => {
    for (const b of el.querySelectorAll<HTMLButtonElement>("[data-tab]")) {
      b.setAttribute("aria-selected", String(b.dataset.tab === tab));
    }
    audit.hidden = tab !== "audit";
    list.hidden = tab === "audit";
    const now = clock.nowMs(performance.now());
    const inbox = requests.filter((r) => decidable(r, department, bureau));
    const mine = requests.filter((r) => r.requester_department === department);
    h.inbox = inbox.map((r) => r.id);
    h.mine = mine.map((r) => r.id);
    h.grants = grants.map((g) => g.id);
    h.releases = releases.map((r) => r.id);
    let items = "";
    if (tab === "inbox") items = inbox.map((r) => requestItem(r, now, true)).join("");
    if (tab === "mine") items = mine.map((r) => requestItem(r, now, false)).join("");
    if (tab === "grants") {
      items = grants
        .map((g) => grantItem(g, bureau || g.provider_department === department))
        .join("");
    }
    if (tab === "open") items = releaseItems(releases);
    if (tab !== "audit") list.innerHTML = items || `<li class="sharing-empty">${esc(pick(TEXT.empty))}</li>`;
  };

  const load = async (): Promise<void> => {
    const mine = ++seq;
    try {
      if (!clock.synced) clock.sync(await fetchClock(), performance.now());
      if (canRequest) {
        [requests, grants, releases] = await Promise.all([fetchRequests(), fetchGrants(), fetchReleases()]);
      }
      if (mine !== seq) return;
      status.textContent = "";
      draw();
    } catch (err) {
      if (mine === seq) status.textContent = errorText(err);
    }
  };

  const checkAudit = async (): Promise<void> => {
    audit.textContent = "…";
    try {
      const [v, recent] = await Promise.all([verifyAudit(), fetchAudit()]);
      h.audit = v.ok ? "ok" : "bad";
      h.auditRecords = v.records;
      audit.innerHTML = `${auditView(v)}<button type="button" data-act="verify">${esc(pick(TEXT.verify))}</button>${timeline(recent)}`;
    } catch (err) {
      audit.textContent = errorText(err);
    }
  };

  el.addEventListener("click", (e) => {
    const target = e.target as HTMLElement;
    const tabBtn = target.closest<HTMLElement>("[data-tab]");
    if (tabBtn) {
      tab = tabBtn.dataset.tab as typeof tab;
      draw();
      if (tab === "audit") void checkAudit();
      return;
    }
    const act = target.closest<HTMLElement>("[data-act]")?.dataset.act;
    if (act === "verify") {
      void checkAudit();
      return;
    }
    const item = target.closest<HTMLElement>("li");
    const reason = item?.querySelector<HTMLInputElement>(".sharing-reason")?.value.trim() ?? "";
    let call: Promise<unknown> | null = null;
    if (act === "approve" && item?.dataset.request) call = approve(item.dataset.request, reason);
    if (act === "refuse" && item?.dataset.request) {
      if (!reason) {
        status.textContent = pick({ zh: "拒绝须说明理由", en: "a refusal needs reasons" });
        return;
      }
      call = refuse(item.dataset.request, reason);
    }
    if (act === "revoke" && item?.dataset.grant) {
      call = revoke(item.dataset.grant, pick({ zh: "提供部门撤销", en: "revoked by the provider" }));
    }
    if (call) {
      call.then(load).catch((err: unknown) => {
        status.textContent = errorText(err);
      });
    }
  });

  if (tab === "audit") void checkAudit();
  void load();
  const timer = window.setInterval(() => void load(), 15_000);
  return () => {
    seq += 1;
    window.clearInterval(timer);
  };
}

registerPanel({ id: "sharing.inbox", side: "left", order: 80, title: TEXT.title, render: renderSharing });
