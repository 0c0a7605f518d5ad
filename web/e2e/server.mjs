// A throw-away Group Analyst server for the browser tests: a fresh SQLite demo database in a
// temporary folder, `groupanalyst run-dev` on a free loopback port, stopped after the tests.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before } from "node:test";
import { launch } from "./browser.mjs";

const ROOT = resolve(import.meta.dirname, "../..");

function freePort() {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

export async function startServer() {
  const folder = mkdtempSync(join(tmpdir(), "groupanalyst-e2e-"));
  const port = await freePort();
  const bin = process.env.GROUPANALYST_BIN ?? join(ROOT, ".venv/bin/groupanalyst");
  const child = spawn(bin, ["run-dev", "--host", "127.0.0.1", "--port", String(port)], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: `sqlite+aiosqlite:///${join(folder, "e2e.db")}`,
      GROUPANALYST_LOG_LEVEL: "warning",
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: stop() ends the server and the worker run-dev starts beside it.
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited:\n${output}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`server did not start within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  // run-dev prints the demo accounts' password; the tests sign in with it.
  const password = /demo password for every account below: (\S+?)\)/.exec(output)?.[1];
  if (!password) throw new Error(`no demo password in the server's output:\n${output}`);
  return {
    url,
    password,
    async stop() {
      // SIGTERM for a graceful stop; after 15 s, SIGKILL to the whole group, so a server that
      // does not stop can never keep the test run (and CI) waiting.
      const exited = new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
      process.kill(-child.pid, "SIGTERM");
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }, 15_000);
      await exited;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** One throw-away server and one browser for the test file (started before its first test,
 * stopped after its last), as `{ server, browser }` once started. */
export function serverAndBrowser() {
  const shared = { server: null, browser: null };
  before(async () => {
    shared.server = await startServer();
    shared.browser = await launch();
  });
  after(async () => {
    await shared.browser?.close();
    await shared.server?.stop();
  });
  return shared;
}
