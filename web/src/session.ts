// The bearer token lives in sessionStorage: this tab only, gone when the tab closes, never
// shared with other tabs or kept on a shared machine after the browser is closed.
const KEY = "groupanalyst.token";

export const session = {
  token(): string | null {
    return sessionStorage.getItem(KEY);
  },
  save(token: string): void {
    sessionStorage.setItem(KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(KEY);
  },
};
