// Open data releases (数据开放) in the sharing panel: each release with its parameters —
// k-anonymity (k, quasi-identifiers, levels chosen, k reached, rows suppressed) or
// differential privacy (epsilon, bounds, noise per query). The list is public.

import { ApiError, readProblem } from "../api";
import { esc } from "../format";
import { pick } from "../i18n";

export interface OpenRelease {
  id: string;
  resource_id: string;
  resource_code: string;
  resource_name: string;
  department_id: string;
  title: string;
  mode: "k_anonymity" | "dp";
  params: Record<string, unknown>;
  outcome: Record<string, unknown>;
  columns: string[];
  row_count: number;
  created_at: string;
}

/** Fetch the newest releases (public: no credentials needed). */
export async function fetchReleases(limit = 50): Promise<OpenRelease[]> {
  const res = await fetch(`/api/v1/open/releases?limit=${limit}`, {
    headers: { Accept: "application/json" },
  });
  if (!res.ok) throw new ApiError(res.status, await readProblem(res));
  return (await res.json()) as OpenRelease[];
}

const MODE = {
  k_anonymity: { zh: "k-匿名", en: "k-anonymity" },
  dp: { zh: "差分隐私", en: "differential privacy" },
};

function kv(pairs: [string, unknown][]): string {
  return pairs
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${esc(k)} ${esc(typeof v === "object" ? JSON.stringify(v) : String(v))}`)
    .join(" · ");
}

/** Return the parameters line of a release (stated and achieved). */
export function releaseParams(r: OpenRelease): string {
  const p = r.params;
  const o = r.outcome;
  if (r.mode === "k_anonymity") {
    return kv([
      ["k", p.k],
      ["QI", (p.qi as string[] | undefined)?.join(", ")],
      [pick({ zh: "泛化", en: "levels" }), o.levels],
      [pick({ zh: "实际 k", en: "k reached" }), o.k_achieved],
      [pick({ zh: "抑制", en: "suppressed" }), o.suppressed],
    ]);
  }
  return kv([
    ["ε", p.epsilon],
    [pick({ zh: "分组", en: "by" }), p.group_by],
    [pick({ zh: "数值", en: "value" }), p.value_field],
    [pick({ zh: "界", en: "bounds" }), p.value_field ? `[${String(p.lower)}, ${String(p.upper)}]` : null],
    [pick({ zh: "机制", en: "mechanism" }), p.mechanism],
  ]);
}

/** Return the list items of the releases. */
export function releaseItems(releases: OpenRelease[]): string {
  return releases
    .map((r) => `<li data-release="${esc(r.id)}" data-mode="${esc(r.mode)}">
      <div class="sharing-line"><b>${esc(r.title)}</b>
        <span class="sharing-status s-granted">${esc(pick(MODE[r.mode] ?? { zh: r.mode, en: r.mode }))}</span>
        <a href="/api/v1/open/releases/${encodeURIComponent(r.id)}/rows.csv" download>CSV</a></div>
      <div class="sharing-sub">${esc(r.department_id)} · ${esc(r.resource_name)} · ${esc(String(r.row_count))} ${esc(pick({ zh: "行", en: "rows" }))} · ${esc(r.created_at.slice(0, 10))}</div>
      <div class="sharing-sub" data-testid="release-params">${releaseParams(r)}</div>
    </li>`)
    .join("");
}
