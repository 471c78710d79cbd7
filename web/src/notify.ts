// Error toasts: the one place that shows a failure to the operator (never console.error,
// which the end-to-end test treats as a bug).

import { hook } from "./testHook";

let host: HTMLElement | null = null;

function container(): HTMLElement {
  if (host && document.body.contains(host)) return host;
  host = document.createElement("div");
  host.className = "toasts";
  host.setAttribute("role", "status");
  document.body.append(host);
  return host;
}

/** Show an error message for a few seconds and record it for tests. */
export function notifyError(message: string): void {
  hook().errors.push(message);
  const el = document.createElement("div");
  el.className = "toast toast-error";
  el.textContent = message;
  container().append(el);
  window.setTimeout(() => el.remove(), 8000);
}

/** Turn anything thrown into a message. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
