// The signed-in cockpit: header on top, panels left and right, the map in the middle.

import { fetchCity, fetchMe } from "../api";
import { esc } from "../format";
import { lang, t } from "../i18n";
import { createCityMap, type CityMap } from "../map/cityMap";
import { errorText } from "../notify";
import { mountPanels, unmountPanels } from "../panels/registry";
import { registerCityKpis } from "./cityKpis";
import { mountHeader } from "./header";

export interface Shell {
  destroy(): void;
}

function splash(root: HTMLElement, text: string, retry?: () => void): void {
  root.innerHTML = `<div class="splash"><div class="splash-spinner"></div><div class="splash-text">${esc(text)}</div></div>`;
  if (retry) {
    root.querySelector(".splash-spinner")?.remove();
    const btn = document.createElement("button");
    btn.className = "btn btn-primary";
    btn.textContent = "↻";
    btn.addEventListener("click", retry);
    root.querySelector(".splash")?.append(btn);
  }
}

/** Load the user and the city, then build the cockpit into `root`. */
export async function mountShell(root: HTMLElement, onLogout: () => void): Promise<Shell | null> {
  splash(root, t("loading"));
  let me;
  let city;
  try {
    [me, city] = await Promise.all([fetchMe(), fetchCity()]);
  } catch (err) {
    // A 401 has already sent the operator back to the login form.
    if (root.querySelector(".splash")) {
      splash(root, `${t("loadFailed")}: ${errorText(err)}`, () => void mountShell(root, onLogout));
    }
    return null;
  }

  root.innerHTML = `
    <div class="cockpit">
      <header class="app-header"></header>
      <main class="cockpit-body">
        <aside class="column column-left" data-testid="column-left"></aside>
        <div class="map-frame"><div class="map" data-testid="map"></div><i class="corner tl"></i><i class="corner tr"></i><i class="corner bl"></i><i class="corner br"></i></div>
        <aside class="column column-right" data-testid="column-right"></aside>
      </main>
    </div>`;
  const header = root.querySelector<HTMLElement>(".app-header");
  const left = root.querySelector<HTMLElement>(".column-left");
  const right = root.querySelector<HTMLElement>(".column-right");
  const mapEl = root.querySelector<HTMLElement>(".map");
  if (!header || !left || !right || !mapEl) return null;

  registerCityKpis(city);
  const stopHeader = mountHeader(header, city, me, onLogout);
  let cityMap: CityMap | null = createCityMap(mapEl, city);
  mountPanels(left, right, { city, me, map: cityMap.map }, lang());

  return {
    destroy() {
      stopHeader();
      unmountPanels();
      cityMap?.destroy();
      cityMap = null;
      root.replaceChildren();
    },
  };
}
