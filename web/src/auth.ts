// The bearer token, kept in sessionStorage so it ends with the browser tab.

const TOKEN_KEY = "ocb.token";

/** Return the stored bearer token, or null when signed out. */
export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Store a new bearer token. */
export function setToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

/** Forget the bearer token. */
export function clearToken(): void {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Nothing stored, nothing to clear.
  }
}
