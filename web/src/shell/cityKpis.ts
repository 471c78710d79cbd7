// The shell's own KPI cards, filled from /api/v1/city.

import { bi } from "../i18n";
import { registerKpi } from "../kpi";
import { COLORS } from "../theme";
import type { City } from "../types";

/** Register (or refresh) the city's size cards on the KPI strip. */
export function registerCityKpis(city: City): void {
  const s = city.stats;
  const cards = [
    { id: "city.counties", label: bi("kpiCounties"), value: s.counties },
    { id: "city.streets", label: bi("kpiStreets"), value: s.streets },
    { id: "city.communities", label: bi("kpiCommunities"), value: s.communities },
    { id: "city.grids", label: bi("kpiGrids"), value: s.grids },
    { id: "city.intersections", label: bi("kpiIntersections"), value: s.intersections },
    {
      id: "city.signalized",
      label: bi("kpiSignalized"),
      value: s.signalized,
      color: COLORS.signal,
    },
    { id: "city.road_km", label: bi("kpiRoadKm"), value: s.road_km, unit: bi("unitKm"), digits: 1 },
  ];
  cards.forEach((c, i) => {
    registerKpi({
      id: c.id,
      label: c.label,
      order: 10 + i,
      ...(c.unit ? { unit: c.unit } : {}),
      ...(c.digits ? { digits: c.digits } : {}),
      ...(c.color ? { color: c.color } : {}),
    }).set(c.value);
  });
}
