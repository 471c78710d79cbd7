// The login view, shown when there is no valid token.

import { ApiError, login } from "../api";
import { esc } from "../format";
import { onLangChange, t, toggleLang } from "../i18n";
import { errorText } from "../notify";

let offLang: (() => void) | null = null;

/** Is the login form on screen? */
export function loginShown(root: HTMLElement): boolean {
  return root.querySelector(".login") !== null;
}

/** Show the login form in `root`; `onSuccess` runs once a token is stored. */
export function showLogin(root: HTMLElement, onSuccess: () => void, notice = ""): void {
  let username = "";
  let message = notice;
  let busy = false;

  const render = (): void => {
    root.innerHTML = `
      <div class="login">
        <div class="login-grid" aria-hidden="true"></div>
        <form class="login-card" novalidate>
          <button type="button" class="btn btn-ghost lang-toggle login-lang" title="${esc(t("langToggleTitle"))}">${esc(t("langToggle"))}</button>
          <div class="login-brand">${esc(t("systemName"))}</div>
          <div class="login-sub">${esc(t("loginSubtitle"))}</div>
          <h2 class="login-title">${esc(t("loginTitle"))}</h2>
          <label class="field"><span>${esc(t("username"))}</span>
            <input name="username" autocomplete="username" required value="${esc(username)}" /></label>
          <label class="field"><span>${esc(t("password"))}</span>
            <input name="password" type="password" autocomplete="current-password" required /></label>
          <div class="login-error" role="alert">${esc(message)}</div>
          <button type="submit" class="btn btn-primary login-submit" ${busy ? "disabled" : ""}>${esc(busy ? t("loggingIn") : t("login"))}</button>
        </form>
      </div>`;
    const form = root.querySelector<HTMLFormElement>(".login-card");
    root.querySelector(".login-lang")?.addEventListener("click", toggleLang);
    const userInput = form?.querySelector<HTMLInputElement>("input[name=username]");
    const passInput = form?.querySelector<HTMLInputElement>("input[name=password]");
    (username ? passInput : userInput)?.focus();
    form?.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (busy || !userInput || !passInput) return;
      username = userInput.value.trim();
      const password = passInput.value;
      if (!username || !password) {
        message = `${t("username")} / ${t("password")}`;
        render();
        return;
      }
      busy = true;
      message = "";
      render();
      login(username, password)
        .then(() => {
          offLang?.();
          offLang = null;
          onSuccess();
        })
        .catch((err: unknown) => {
          busy = false;
          message =
            err instanceof ApiError
              ? `${t("loginFailed")}: ${err.message}`
              : `${t("networkError")}: ${errorText(err)}`;
          render();
        });
    });
  };

  offLang?.();
  offLang = onLangChange(render);
  render();
}
