// 「基础库」: look a golden record up by ID number, credit code or plate (masked per the
// caller's grant by the server), and, for the bureau, the conflict review queue: pick a
// department's value with a reason. Hidden without registry:read.

import type { CockpitContext } from "../context";
import { esc, formatInt } from "../format";
import { pick } from "../i18n";
import { errorText } from "../notify";
import { registerPanel } from "../panels/registry";
import { fetchGolden, fetchIntake, fetchReview, resolveItem, type RegistryKind, type ReviewItem } from "./client";
import { intakeLine, stillRunning } from "./intake";
import { blocksHook } from "./hook";
import "../styles/blocks.css";

const TEXT = {
  title: { zh: "基础库", en: "Base registries" },
  people: { zh: "一人一档", en: "People" },
  companies: { zh: "一企一档", en: "Companies" },
  vehicles: { zh: "一车一档", en: "Vehicles" },
  code: { zh: "身份号码 / 信用代码 / 号牌", en: "ID, credit code or plate" },
  find: { zh: "查询", en: "Look up" },
  sources: { zh: "来源记录", en: "source records" },
  review: { zh: "待复核冲突", en: "Conflicts to review" },
  reason: { zh: "复核理由", en: "Reason" },
  none: { zh: "无待复核项", en: "Nothing to review" },
};
const SHOWN = ["golden_id", "name", "sex", "birth_date", "address", "owner_code", "rep_id_number", "records", "sources"];

function renderRecord(body: Record<string, unknown>): string {
  const record = (body.record ?? {}) as Record<string, unknown>;
  const rows = SHOWN.filter((k) => record[k] !== undefined && record[k] !== null)
    .map((k) => `<li><span>${esc(k)}</span>${esc(String(record[k]))}${record[`${k}_source`] ? ` <small>(${esc(String(record[`${k}_source`]))})</small>` : ""}</li>`);
  const sources = (body.records as unknown[] | undefined)?.length ?? 0;
  rows.push(`<li><span>${esc(pick(TEXT.sources))}</span>${formatInt(sources)}</li>`);
  return rows.join("");
}

function renderRegistry(el: HTMLElement, ctx: CockpitContext): void | (() => void) {
  const panel = el.closest<HTMLElement>(".panel");
  if (!ctx.me.permissions.includes("registry:read")) {
    if (panel) panel.hidden = true;
    return;
  }
  const canReview = ctx.me.permissions.includes("registry:review");
  el.classList.add("registry-body");
  el.innerHTML = `
    <form class="registry-form" data-testid="registry-form">
      <select name="kind" aria-label="kind">
        ${(["people", "companies", "vehicles"] as const).map((k) => `<option value="${k}">${esc(pick(TEXT[k]))}</option>`).join("")}
      </select>
      <input name="code" data-testid="registry-code" placeholder="${esc(pick(TEXT.code))}" maxlength="32" />
      <button type="submit" class="btn">${esc(pick(TEXT.find))}</button>
    </form>
    <div class="registry-intake" data-testid="registry-intake" hidden></div>
    <div class="registry-status" data-testid="registry-status"></div>
    <ul class="registry-record" data-testid="registry-record"></ul>
    <div class="registry-subtitle"${canReview ? "" : " hidden"}>${esc(pick(TEXT.review))} <b class="registry-count"></b></div>
    <ul class="registry-review" data-testid="registry-review"${canReview ? "" : " hidden"}></ul>`;
  const form = el.querySelector<HTMLFormElement>(".registry-form")!;
  const status = el.querySelector<HTMLElement>(".registry-status")!;
  const intake = el.querySelector<HTMLElement>(".registry-intake")!;
  const record = el.querySelector<HTMLUListElement>(".registry-record")!;
  const count = el.querySelector<HTMLElement>(".registry-count")!;
  const review = el.querySelector<HTMLUListElement>(".registry-review")!;
  const h = blocksHook();
  let items: ReviewItem[] = [];
  const kind = (): RegistryKind => (form.elements.namedItem("kind") as HTMLSelectElement).value as RegistryKind;

  const loadReview = async (): Promise<void> => {
    if (!canReview) return;
    try {
      const page = await fetchReview(kind());
      items = page.items;
      h.review = page.total;
      count.textContent = formatInt(page.total);
      review.innerHTML = items.length
        ? items.slice(0, 8).map((it) => `<li data-item="${esc(it.id)}">${esc(it.attribute)} · ${it.options
            .map((o) => `<button type="button" data-pick="${esc(o.value)}" title="${esc(o.sources.join(", "))}">${esc(o.value)}${o.chosen ? " ✓" : ""}</button>`)
            .join(" ")}</li>`).join("")
        : `<li>${esc(pick(TEXT.none))}</li>`;
    } catch (err) {
      h.review = null;
      count.textContent = "";
      review.innerHTML = `<li>${esc(errorText(err))}</li>`;
    }
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const code = (form.elements.namedItem("code") as HTMLInputElement).value;
    if (!code.trim()) return;
    status.textContent = "…";
    void fetchGolden(kind(), code)
      .then((body) => {
        record.innerHTML = renderRecord(body);
        status.textContent = "";
        const shown = JSON.stringify(body.record ?? {});
        h.lookup = shown.includes("*") ? "masked" : "ok";
      })
      .catch((err: unknown) => {
        record.innerHTML = "";
        status.textContent = errorText(err);
        h.lookup = "error";
      });
  });
  (form.elements.namedItem("kind") as HTMLSelectElement).addEventListener("change", () => void loadReview());
  review.addEventListener("click", (e) => {
    const btn = (e.target as HTMLElement).closest<HTMLElement>("[data-pick]");
    const item = btn?.closest<HTMLElement>("[data-item]")?.dataset.item;
    if (!btn || !item) return;
    const reason = window.prompt(pick(TEXT.reason), "") ?? "";
    if (!reason.trim()) return;
    void resolveItem(kind(), item, btn.dataset.pick ?? "", reason)
      .then(() => loadReview())
      .catch((err: unknown) => {
        status.textContent = errorText(err);
      });
  });
  void loadReview();

  // The departments' data intake: asked again every 3 s while it runs, then left.
  let timer: number | undefined;
  let stopped = false;
  const pollIntake = async (): Promise<void> => {
    try {
      const s = await fetchIntake();
      if (stopped) return;
      const line = intakeLine(s);
      intake.hidden = line === null;
      intake.textContent = line ?? "";
      if (stillRunning(s)) timer = window.setTimeout(() => void pollIntake(), 3000);
      else if (s.state === "done") void loadReview();
    } catch {
      intake.hidden = true;
    }
  };
  void pollIntake();
  return () => {
    stopped = true;
    if (timer !== undefined) window.clearTimeout(timer);
  };
}

registerPanel({ id: "registry.lookup", side: "left", order: 80, title: TEXT.title, render: renderRegistry });
