// Debian's chromium driven by playwright-core (no downloaded browser), an axe-core check, and
// screenshots under e2e/screens/ (git-ignored).
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
export const SCREENS = resolve(import.meta.dirname, "screens");
mkdirSync(SCREENS, { recursive: true });

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A new tab of its own (its own sessionStorage); every request off loopback is refused and
 * recorded, so a CDN load would fail the test. */
export async function newPage(browser, base, { width = 1280, height = 900 } = {}) {
  const context = await browser.newContext({ baseURL: base, viewport: { width, height }, acceptDownloads: true });
  const page = await context.newPage();
  page.offLoopback = [];
  page.consoleErrors = [];
  await context.route(/^(?!https?:\/\/127\.0\.0\.1[:/]).*/, (route) => {
    page.offLoopback.push(route.request().url());
    return route.abort();
  });
  page.on("console", (message) => message.type() === "error" && page.consoleErrors.push(message.text()));
  return page;
}

/** axe-core on the page as it is: the serious and critical violations. */
export async function axeProblems(page) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() =>
    window.axe.run(document, { resultTypes: ["violations"] }),
  );
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SCREENS, `${name}.png`), fullPage: true });
}
