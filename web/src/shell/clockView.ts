// The header clock: polls /api/v1/clock every 10 s and ticks locally at its speed.

import { fetchClock } from "../api";
import { CityClock, formatCityTime, formatSpeed } from "../clock";
import { lang, onLangChange, t } from "../i18n";

const POLL_MS = 10_000;
const TICK_MS = 250;

/** Mount the clock into `el`; returns a function that stops it. */
export function mountClock(el: HTMLElement): () => void {
  const clock = new CityClock();
  el.classList.add("header-clock");
  el.innerHTML = `<div class="clock-time" data-testid="clock-time">--:--:--</div>
    <div class="clock-sub"><span class="clock-date"></span><span class="clock-mode"></span></div>`;
  const timeEl = el.querySelector<HTMLElement>(".clock-time");
  const dateEl = el.querySelector<HTMLElement>(".clock-date");
  const modeEl = el.querySelector<HTMLElement>(".clock-mode");
  let lastText = "";

  const paint = (force = false): void => {
    const { date, time, weekday } = formatCityTime(clock.nowMs(performance.now()), clock.timezone, lang());
    const text = `${date} ${weekday} ${time}`;
    if (!force && text === lastText) return;
    lastText = text;
    if (timeEl) timeEl.textContent = time;
    if (dateEl) dateEl.textContent = `${date} ${weekday}`;
    if (modeEl) {
      const simulated = clock.mode === "simulated" || clock.speed !== 1;
      let mode = "";
      if (clock.speed === 0) mode = t("paused");
      else if (simulated) mode = `${t("simulated")} ${formatSpeed(clock.speed)}`;
      else if (clock.synced) mode = t("realtime");
      modeEl.textContent = mode;
      modeEl.classList.toggle("is-simulated", simulated);
    }
  };

  const poll = (): void => {
    fetchClock()
      .then((info) => {
        clock.sync(info, performance.now());
        el.classList.remove("is-stale");
        paint(true);
      })
      .catch(() => {
        // Keep ticking on the last reading; mark it so the operator can tell.
        el.classList.add("is-stale");
      });
  };

  poll();
  paint(true);
  const pollTimer = window.setInterval(poll, POLL_MS);
  const tickTimer = window.setInterval(() => paint(), TICK_MS);
  const offLang = onLangChange(() => paint(true));
  return () => {
    window.clearInterval(pollTimer);
    window.clearInterval(tickTimer);
    offLang();
  };
}
