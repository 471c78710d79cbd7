// The header: system and city name, the city clock, the user, language and logout,
// and below them the KPI strip.

import { esc } from "../format";
import { lang, onLangChange, t, toggleLang } from "../i18n";
import { mountKpiStrip } from "../kpi";
import type { City, Me } from "../types";
import { mountClock } from "./clockView";

const LOGO_SVG = `<svg viewBox="0 0 40 40" aria-hidden="true"><defs><linearGradient id="lg" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#3ad7ff"/><stop offset="1" stop-color="#6c63ff"/></linearGradient></defs><polygon points="20,2 36,11 36,29 20,38 4,29 4,11" fill="none" stroke="url(#lg)" stroke-width="2"/><circle cx="20" cy="20" r="5" fill="#3ad7ff"/><path d="M20 7v8M20 25v8M9 13.5l7 4M24 22.5l7 4M9 26.5l7-4M24 17.5l7-4" stroke="#3ad7ff" stroke-width="1.6" stroke-linecap="round"/></svg>`;

/** Build the header into `el`; returns a function that tears it down. */
export function mountHeader(el: HTMLElement, city: City, me: Me, onLogout: () => void): () => void {
  el.className = "app-header";
  el.innerHTML = `
    <div class="header-row">
      <div class="brand">
        <div class="brand-logo">${LOGO_SVG}</div>
        <div class="brand-text">
          <h1 class="brand-title" data-testid="system-name"></h1>
          <div class="brand-city"><span class="city-name"></span><span class="city-code">${esc(city.code)}</span></div>
        </div>
      </div>
      <div class="clock-slot"></div>
      <div class="header-user">
        <div class="user-info">
          <div class="user-name">${esc(me.display_name || me.username)}</div>
          <div class="user-dept"></div>
        </div>
        <button type="button" class="btn btn-ghost lang-toggle" data-testid="lang-toggle"></button>
        <button type="button" class="btn btn-ghost logout" data-testid="logout"></button>
      </div>
    </div>
    <div class="kpi-strip" data-testid="kpi-strip"></div>`;

  const q = <T extends HTMLElement>(sel: string): T | null => el.querySelector<T>(sel);
  const langBtn = q<HTMLButtonElement>(".lang-toggle");
  const logoutBtn = q<HTMLButtonElement>(".logout");
  langBtn?.addEventListener("click", toggleLang);
  logoutBtn?.addEventListener("click", onLogout);

  const paint = (): void => {
    const zh = lang() === "zh";
    const title = q(".brand-title");
    if (title) title.textContent = t("systemName");
    const cityName = q(".city-name");
    if (cityName) cityName.textContent = zh ? city.name_zh : city.name_en;
    const dept = q(".user-dept");
    if (dept) {
      const d = me.department;
      dept.textContent = d ? (zh ? d.name_zh : d.name_en) : "";
    }
    if (langBtn) {
      langBtn.textContent = t("langToggle");
      langBtn.title = t("langToggleTitle");
    }
    if (logoutBtn) logoutBtn.textContent = t("logout");
    document.title = `${t("systemName")} — ${zh ? city.name_zh : city.name_en}`;
  };
  paint();

  const clockSlot = q(".clock-slot");
  const stopClock = clockSlot ? mountClock(clockSlot) : () => undefined;
  const kpiEl = q(".kpi-strip");
  const stopKpis = kpiEl ? mountKpiStrip(kpiEl) : () => undefined;
  const offLang = onLangChange(paint);
  return () => {
    offLang();
    stopClock();
    stopKpis();
  };
}
