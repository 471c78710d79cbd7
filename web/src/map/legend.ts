// The map legend: road classes in their colours and the signalised-junction dot.

import type { IControl } from "maplibre-gl";
import { onLangChange, roadClassName, t } from "../i18n";
import { COLORS, ROAD_CLASS_ORDER, ROAD_COLORS } from "../theme";

/** A MapLibre control drawing the legend. */
export class LegendControl implements IControl {
  private el: HTMLElement | null = null;
  private offLang: (() => void) | null = null;

  onAdd(): HTMLElement {
    this.el = document.createElement("div");
    this.el.className = "maplibregl-ctrl map-legend";
    this.render();
    this.offLang = onLangChange(() => this.render());
    return this.el;
  }

  onRemove(): void {
    this.offLang?.();
    this.el?.remove();
    this.el = null;
  }

  private render(): void {
    if (!this.el) return;
    const roads = ROAD_CLASS_ORDER.map(
      (c) =>
        `<div class="legend-item"><i class="legend-line" style="background:${ROAD_COLORS[c]}"></i>${roadClassName({ class: c })}</div>`,
    ).join("");
    this.el.innerHTML = `${roads}<div class="legend-item"><i class="legend-dot" style="background:${COLORS.signal}"></i>${t("legendSignal")}</div>`;
  }
}
