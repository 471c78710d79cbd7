// The case drawer: one case's facts and its timeline, opened from the case list or a
// click on the map; Esc or the close button shuts it.

import { fetchAuthorized } from "../api";
import { esc } from "../format";
import { lang, pick } from "../i18n";
import { notifyError } from "../notify";
import { fetchCase } from "./client";
import { caseColors, LATENESS_NAMES, STATUS_NAMES } from "./colors";
import { opsHook } from "./hook";
import { formatWhen, timelineRows } from "./timeline";
import type { CaseDetail } from "./types";

const TEXT = {
  title: { zh: "案件详情", en: "Case" },
  timeline: { zh: "办理过程", en: "Timeline" },
  close: { zh: "关闭", en: "Close" },
  cls: { zh: "类别", en: "Class" },
  where: { zh: "位置", en: "Where" },
  dept: { zh: "责任部门", en: "Department" },
  reported: { zh: "上报时间", en: "Reported" },
  due: { zh: "办理时限", en: "Due" },
  loadFailed: { zh: "案件加载失败", en: "Case failed to load" },
  file: { zh: "附件", en: "Attachment" },
  fileFailed: { zh: "附件打开失败", en: "Attachment failed to open" },
};

/** Fetch an uploaded file with the operator's token and open it in a new tab. */
async function openAttachment(ref: string): Promise<void> {
  const res = await fetchAuthorized(`/api/v1/operations/attachments/${encodeURIComponent(ref)}`);
  if (!res.ok) {
    notifyError(`${pick(TEXT.fileFailed)}: HTTP ${res.status}`);
    return;
  }
  const url = URL.createObjectURL(await res.blob());
  opsHook().opened = ref;
  window.open(url, "_blank", "noopener");
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

let current: { el: HTMLElement; abort: AbortController; offKey: () => void } | null = null;

/** Close the drawer if open. */
export function closeCaseDrawer(): void {
  if (!current) return;
  current.abort.abort();
  current.offKey();
  current.el.remove();
  current = null;
  opsHook().open = null;
}

function detailHtml(d: CaseDetail, nowMs: number, timeZone: string): string {
  const L = lang();
  const c = d.case;
  const col = caseColors(c, nowMs);
  const rows = timelineRows(d.timeline, L, timeZone)
    .map(
      (r) => `<li class="ops-step">
        <time>${esc(r.when)}</time>
        <div class="ops-step-main"><b>${esc(r.action)}</b><span class="ops-step-status">${esc(r.transition)}</span></div>
        <div class="ops-step-actor">${esc(r.actor)}</div>
        ${r.note ? `<div class="ops-step-note">${esc(r.note)}</div>` : ""}
        ${r.files
          .map(
            (f) => `<button type="button" class="btn btn-ghost ops-file" style="font-size:12px;padding:0 6px" data-file="${esc(f.ref)}" title="${esc(f.media_type)}">📎 ${esc(f.name || pick(TEXT.file))}</button>`,
          )
          .join("")}
      </li>`,
    )
    .join("");
  const where = [c.address, c.county, c.grid].filter(Boolean).join(" · ");
  return `
    <dl class="ops-facts">
      <dt>${esc(pick(TEXT.cls))}</dt><dd>${esc(c.class_code)}</dd>
      <dt>${esc(pick(TEXT.where))}</dt><dd>${esc(where)}</dd>
      <dt>${esc(pick(TEXT.dept))}</dt><dd>${esc(c.department_id ?? "—")}</dd>
      <dt>${esc(pick(TEXT.reported))}</dt><dd>${esc(formatWhen(c.reported_at, timeZone))}</dd>
      <dt>${esc(pick(TEXT.due))}</dt><dd>${c.due_at ? esc(formatWhen(c.due_at, timeZone)) : "—"}</dd>
    </dl>
    <p class="ops-desc">${esc(c.description)}</p>
    <h4 class="ops-subtitle">${esc(pick(TEXT.timeline))}</h4>
    <ol class="ops-timeline" data-testid="case-timeline">${rows}</ol>
    <div class="ops-badges">
      <span class="ops-badge" style="border-color:${col.fill};color:${col.fill}">${esc(pick(STATUS_NAMES[c.status]))}</span>
      <span class="ops-badge ops-late-${col.lateness}">${esc(pick(LATENESS_NAMES[col.lateness]))}</span>
    </div>`;
}

/** Open the drawer on a case and load its timeline. */
export function openCaseDrawer(id: string, nowMs: number, timeZone: string): void {
  closeCaseDrawer();
  const el = document.createElement("aside");
  el.className = "ops-drawer";
  el.setAttribute("role", "dialog");
  el.setAttribute("aria-label", pick(TEXT.title));
  el.dataset.case = id;
  el.innerHTML = `
    <header class="ops-drawer-head">
      <h3 class="ops-drawer-title">${esc(pick(TEXT.title))} <small>${esc(id)}</small></h3>
      <button type="button" class="btn btn-ghost ops-drawer-close" aria-label="${esc(pick(TEXT.close))}">×</button>
    </header>
    <div class="ops-drawer-body" aria-live="polite">…</div>`;
  document.body.append(el);
  const abort = new AbortController();
  const onKey = (e: KeyboardEvent): void => {
    if (e.key === "Escape") closeCaseDrawer();
  };
  document.addEventListener("keydown", onKey);
  current = { el, abort, offKey: () => document.removeEventListener("keydown", onKey) };
  opsHook().open = id;
  const close = el.querySelector<HTMLButtonElement>(".ops-drawer-close");
  close?.addEventListener("click", closeCaseDrawer);
  close?.focus();
  const body = el.querySelector<HTMLElement>(".ops-drawer-body");
  void fetchCase(id, abort.signal)
    .then((answer) => {
      if (!body || abort.signal.aborted) return;
      if (answer.kind !== "ok") {
        const why = answer.kind === "failed" ? answer.message : `HTTP ${answer.status}`;
        body.textContent = `${pick(TEXT.loadFailed)}: ${why}`;
        notifyError(`${pick(TEXT.loadFailed)}: ${why}`);
        return;
      }
      const title = el.querySelector(".ops-drawer-title");
      if (title) title.innerHTML = `${esc(answer.value.case.title)} <small>${esc(id)}</small>`;
      body.innerHTML = detailHtml(answer.value, nowMs, timeZone);
      body.addEventListener("click", (e) => {
        const btn = (e.target as HTMLElement).closest<HTMLElement>("[data-file]");
        if (btn?.dataset.file) void openAttachment(btn.dataset.file);
      });
    })
    .catch(() => undefined);
}
