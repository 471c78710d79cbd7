// Every UI string of the shell, Chinese first with English. Capabilities that add panels
// or KPI cards pass their own `Bilingual` texts; this module only holds the shell's own.

import type { Bilingual, Lang } from "./types";

const STRINGS = {
  systemName: { zh: "城市大脑 · 驾驶舱", en: "City Brain · Cockpit" },
  systemShort: { zh: "城市大脑", en: "City Brain" },
  loginTitle: { zh: "登录驾驶舱", en: "Sign in to the cockpit" },
  loginSubtitle: { zh: "城市运行指挥中心", en: "City Operations Command Centre" },
  username: { zh: "用户名", en: "Username" },
  password: { zh: "密码", en: "Password" },
  login: { zh: "登录", en: "Sign in" },
  loggingIn: { zh: "正在登录…", en: "Signing in…" },
  logout: { zh: "退出", en: "Log out" },
  sessionExpired: { zh: "登录已失效，请重新登录", en: "Your session has ended; please sign in again" },
  loginFailed: { zh: "登录失败", en: "Sign-in failed" },
  networkError: { zh: "无法连接服务器", en: "Cannot reach the server" },
  langToggle: { zh: "EN", en: "中" },
  langToggleTitle: { zh: "Switch to English", en: "切换到中文" },
  simulated: { zh: "模拟", en: "Simulated" },
  realtime: { zh: "实时", en: "Live" },
  paused: { zh: "暂停", en: "Paused" },
  loading: { zh: "加载中…", en: "Loading…" },
  loadFailed: { zh: "加载失败", en: "Failed to load" },
  noData: { zh: "暂无数据", en: "No data" },

  // KPI cards
  kpiCounties: { zh: "区县", en: "Districts" },
  kpiStreets: { zh: "街道", en: "Streets" },
  kpiCommunities: { zh: "社区", en: "Communities" },
  kpiGrids: { zh: "网格", en: "Grids" },
  kpiIntersections: { zh: "路口", en: "Intersections" },
  kpiSignalized: { zh: "信号灯路口", en: "Signalised" },
  kpiRoadKm: { zh: "道路里程", en: "Road length" },
  kpiArea: { zh: "面积", en: "Area" },
  unitKm: { zh: "km", en: "km" },
  unitKm2: { zh: "km²", en: "km²" },

  // Panels
  panelOverview: { zh: "城市概况", en: "City overview" },
  panelCountyRoads: { zh: "区县路网", en: "Road network by district" },
  panelRoadClasses: { zh: "道路等级", en: "Road classes" },
  panelCountyTable: { zh: "区县明细", en: "Districts in detail" },
  cityCode: { zh: "行政区划代码", en: "Division code" },
  area: { zh: "面积", en: "Area" },
  roadLength: { zh: "道路里程", en: "Road length" },
  roadSegments: { zh: "路段", en: "Road segments" },
  roadDensity: { zh: "路网密度", en: "Road density" },
  signalRate: { zh: "路口信号化率", en: "Signalised share" },
  adminUnits: { zh: "行政单元", en: "Administrative units" },
  county: { zh: "区县", en: "District" },
  roadKmSeries: { zh: "道路里程 (km)", en: "Road length (km)" },
  signalizedSeries: { zh: "信号灯路口", en: "Signalised intersections" },
  intersectionsCol: { zh: "路口", en: "Junct." },
  signalizedCol: { zh: "信号", en: "Signals" },
  roadKmCol: { zh: "里程 km", en: "km" },
  areaCol: { zh: "面积 km²", en: "km²" },

  // Map
  layers: { zh: "图层", en: "Layers" },
  layerDistricts: { zh: "区县边界", en: "Districts" },
  layerStreets: { zh: "街道边界", en: "Streets" },
  layerCommunities: { zh: "社区边界", en: "Communities" },
  layerRoads: { zh: "道路", en: "Roads" },
  layerIntersections: { zh: "路口", en: "Intersections" },
  legendExpressway: { zh: "快速路", en: "Expressway" },
  legendArterial: { zh: "主干路", en: "Arterial" },
  legendCollector: { zh: "次干路", en: "Collector" },
  legendLocal: { zh: "支路", en: "Local" },
  legendSignal: { zh: "信号灯路口", en: "Signalised junction" },
  locateTitle: { zh: "位置", en: "Location" },
  locating: { zh: "定位中…", en: "Locating…" },
  street: { zh: "街道", en: "Street" },
  community: { zh: "社区", en: "Community" },
  grid: { zh: "网格", en: "Grid" },
  none: { zh: "—", en: "—" },
  outsideCity: { zh: "不在本市范围内", en: "Outside the city" },
  coordinates: { zh: "坐标", en: "Coordinates" },

  // Live layers (NGSI-LD context broker)
  panelLiveLayers: { zh: "实时图层", en: "Live layers" },
  liveSource: { zh: "NGSI-LD 实体", en: "NGSI-LD entities" },
  liveRefresh: { zh: "刷新", en: "Refresh" },
  liveAutoRefresh: { zh: "已勾选的图层每 30 秒自动刷新", en: "Layers switched on refresh every 30 s" },
  liveTypesCount: { zh: "{n} 类", en: "{n} types" },
  liveTypesCountOne: { zh: "{n} 类", en: "{n} type" },
  liveNoTypes: { zh: "暂无实体类型", en: "No entity types yet" },
  liveTruncated: { zh: "已截断", en: "truncated" },
  liveTruncatedTitle: { zh: "只加载了前 {n} 个实体", en: "Only the first {n} entities are loaded" },
  liveRefreshFailed: { zh: "刷新失败", en: "Refresh failed" },
  liveLoadFailed: { zh: "实时图层加载失败", en: "Live layer failed to load" },
  liveNoLocation: { zh: "{n} 个实体无位置", en: "{n} entities have no location" },
  liveMoreAttrs: { zh: "另有 {n} 项属性", en: "{n} more attributes" },
  liveEntityId: { zh: "编号", en: "ID" },
  liveEntityType: { zh: "类型", en: "Type" },
} satisfies Record<string, Bilingual>;

export type StringKey = keyof typeof STRINGS;

const LANG_KEY = "ocb.lang";
const listeners = new Set<(lang: Lang) => void>();
let current: Lang = readStoredLang();

function readStoredLang(): Lang {
  try {
    return localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";
  } catch {
    return "zh";
  }
}

/** Return the current UI language. */
export function lang(): Lang {
  return current;
}

/** Switch the UI language and tell every listener. */
export function setLang(next: Lang): void {
  if (next === current) return;
  current = next;
  try {
    localStorage.setItem(LANG_KEY, next);
  } catch {
    // Private mode: the choice just does not persist.
  }
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
  for (const fn of listeners) fn(next);
}

/** Flip between Chinese and English. */
export function toggleLang(): void {
  setLang(current === "zh" ? "en" : "zh");
}

/** Call `fn` on every language change; returns an unsubscribe function. */
export function onLangChange(fn: (lang: Lang) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Translate one of the shell's own strings. */
export function t(key: StringKey): string {
  return STRINGS[key][current];
}

/** Return both languages of one of the shell's strings (for panel and KPI specs). */
export function bi(key: StringKey): Bilingual {
  return STRINGS[key];
}

/** Pick the current language from a bilingual text. */
export function pick(text: Bilingual): string {
  return text[current];
}

/** Name a place in the current language, falling back to its Chinese name. */
export function placeName(place: { name_zh: string; name_en?: string | undefined }): string {
  return current === "en" && place.name_en ? place.name_en : place.name_zh;
}

const ROAD_CLASS_KEYS: Record<string, StringKey> = {
  expressway: "legendExpressway",
  arterial: "legendArterial",
  collector: "legendCollector",
  local: "legendLocal",
};

/** Name a road class the same way everywhere (map legend, charts), else as the API does. */
export function roadClassName(row: { class: string; name_zh?: string; name_en?: string }): string {
  const key = ROAD_CLASS_KEYS[row.class];
  if (key) return t(key);
  return (current === "en" ? row.name_en : row.name_zh) ?? row.class;
}

/** Apply the stored language to the document element once at start. */
export function initLang(): void {
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
}
