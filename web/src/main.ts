// Entry point: show the login form or the cockpit, and go back to login on 401.

import "./styles.css";
import "./capabilities";
import { setUnauthorizedHandler } from "./api";
import { clearToken, getToken } from "./auth";
import { initLang, t } from "./i18n";
import { loginShown, showLogin } from "./shell/login";
import { mountShell, type Shell } from "./shell/shell";
import { installHook } from "./testHook";

initLang();
installHook();

const root = document.getElementById("app") ?? document.body;
let shell: Shell | null = null;

function toLogin(notice = ""): void {
  shell?.destroy();
  shell = null;
  installHook();
  showLogin(root, start, notice);
}

function logout(): void {
  clearToken();
  toLogin();
}

function start(): void {
  if (!getToken()) {
    toLogin();
    return;
  }
  void mountShell(root, logout).then((s) => {
    shell = s;
  });
}

setUnauthorizedHandler(() => {
  if (!loginShown(root)) toLogin(t("sessionExpired"));
});

start();
