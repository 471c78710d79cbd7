// The layer switcher on the map: one checkbox per logical layer.

import type { IControl } from "maplibre-gl";
import { onLangChange, t, type StringKey } from "../i18n";
import type { LayerGroup } from "./style";

const LABELS: Record<LayerGroup, StringKey> = {
  districts: "layerDistricts",
  streets: "layerStreets",
  communities: "layerCommunities",
  roads: "layerRoads",
  intersections: "layerIntersections",
};

const ORDER: LayerGroup[] = ["districts", "streets", "communities", "roads", "intersections"];

/** A MapLibre control listing the layer groups with a checkbox each. */
export class LayerControl implements IControl {
  private el: HTMLElement | null = null;
  private offLang: (() => void) | null = null;

  constructor(
    private readonly isOn: (group: LayerGroup) => boolean,
    private readonly toggle: (group: LayerGroup, on: boolean) => void,
  ) {}

  onAdd(): HTMLElement {
    const el = document.createElement("div");
    el.className = "maplibregl-ctrl layer-control";
    this.el = el;
    this.render();
    this.offLang = onLangChange(() => this.render());
    return el;
  }

  onRemove(): void {
    this.offLang?.();
    this.el?.remove();
    this.el = null;
  }

  /** Redraw the checkboxes from the current state. */
  render(): void {
    const el = this.el;
    if (!el) return;
    el.replaceChildren();
    const title = document.createElement("div");
    title.className = "layer-control-title";
    title.textContent = t("layers");
    el.append(title);
    for (const group of ORDER) {
      const label = document.createElement("label");
      label.className = "layer-toggle";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = this.isOn(group);
      box.dataset.layer = group;
      box.addEventListener("change", () => this.toggle(group, box.checked));
      const swatch = document.createElement("span");
      swatch.className = `layer-swatch swatch-${group}`;
      const text = document.createElement("span");
      text.textContent = t(LABELS[group]);
      label.append(box, swatch, text);
      el.append(label);
    }
  }
}
