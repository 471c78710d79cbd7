// The city clock: the server's time is polled now and then, and between polls it runs
// on locally at the server's speed factor, so a simulated day passes smoothly on screen.

import type { ClockInfo } from "./types";

/** A clock reading anchored to a local monotonic instant. */
export class CityClock {
  private anchorCityMs = Date.now();
  private anchorLocalMs = 0;
  speed = 1;
  mode: ClockInfo["mode"] = "real";
  timezone = "Asia/Shanghai";
  synced = false;

  /** Anchor the clock on a server reading received at local instant `localMs`. */
  sync(info: ClockInfo, localMs: number): void {
    const parsed = Date.parse(info.now);
    if (Number.isNaN(parsed)) return;
    this.anchorCityMs = parsed;
    this.anchorLocalMs = localMs;
    this.speed = Number.isFinite(info.speed) ? info.speed : 1;
    this.mode = info.mode;
    this.timezone = info.timezone || "Asia/Shanghai";
    this.synced = true;
  }

  /** Return the city time (epoch ms) at local monotonic instant `localMs`. */
  nowMs(localMs: number): number {
    if (!this.synced) return Date.now();
    return this.anchorCityMs + (localMs - this.anchorLocalMs) * this.speed;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      weekday: "short",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const WEEKDAYS_ZH: Record<string, string> = {
  Mon: "星期一",
  Tue: "星期二",
  Wed: "星期三",
  Thu: "星期四",
  Fri: "星期五",
  Sat: "星期六",
  Sun: "星期日",
};

/** Split an instant into date, time and weekday texts in the given time zone. */
export function formatCityTime(
  ms: number,
  timeZone: string,
  lang: "zh" | "en",
): { date: string; time: string; weekday: string } {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) parts[p.type] = p.value;
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  const time = `${parts.hour}:${parts.minute}:${parts.second}`;
  const wd = parts.weekday ?? "";
  return { date, time, weekday: lang === "zh" ? (WEEKDAYS_ZH[wd] ?? wd) : wd };
}

/** Format a speed factor for the header, e.g. "×60" or "×0.5". */
export function formatSpeed(speed: number): string {
  const rounded = Math.abs(speed - Math.round(speed)) < 1e-9 ? String(Math.round(speed)) : speed.toFixed(1);
  return `×${rounded}`;
}
