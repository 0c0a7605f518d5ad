// End-to-end: the dashboard and GraphiQL in headless Chromium against a real server with the
// demo data. The tests run in order and share one server: the admin's changes are seen by the
// analyst afterwards.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import { axeProblems, newPage, shot } from "./browser.mjs";
import { serverAndBrowser } from "./server.mjs";

const HEADER =
  "Student First Name,Student Last Name,Student Email,Company,Group Name,Course Name," +
  "Activated At Date,% Completed,Completed Date,Expiry Date";
const ROOT = resolve(import.meta.dirname, "../..");
const shared = serverAndBrowser();

async function signIn(page, email) {
  await page.goto("/");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(shared.server.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

async function checkA11y(page, name) {
  assert.deepEqual(await axeProblems(page), [], `axe on ${name}`);
  await shot(page, name);
}

function assertLoopbackOnly(page) {
  assert.deepEqual(page.offLoopback, [], "requests beyond loopback");
}

async function groupNames(page) {
  await page.getByRole("heading", { level: 2 }).first().waitFor();
  return page.getByRole("heading", { level: 2 }).allInnerTexts();
}

function xlsxHeader(path) {
  const script =
    "import sys; from tests.xlsx_read import read_rows, values; " +
    "print(','.join(values(read_rows(open(sys.argv[1], 'rb').read()))[0]))";
  return execFileSync(resolve(ROOT, ".venv/bin/python"), ["-c", script, path], { cwd: ROOT })
    .toString()
    .trim();
}

test("sign-in page is accessible and refuses a wrong password in words", async () => {
  const page = await newPage(shared.browser, shared.server.url);
  await page.goto("/");
  await page.getByLabel("Email").fill("analyst@example.com");
  await page.getByLabel("Password").fill("wrong-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").getByText("Invalid email or password.").waitFor();
  await checkA11y(page, "01-sign-in");
  assertLoopbackOnly(page);
  await page.context().close();
});

test("an analyst sees only its groups and the chart, opens one, filters and exports", async () => {
  const page = await newPage(shared.browser, shared.server.url, { width: 1440, height: 900 });
  await signIn(page, "analyst@example.com");
  assert.deepEqual(await groupNames(page), ["Cohort 001 Data", "Cohort 002 Product"]);
  const bars = page.getByRole("img", { name: /completed, \d+ in progress, \d+ not started/ });
  assert.ok((await bars.count()) > 0, "a bar per course");
  await checkA11y(page, "02-analyst-home");

  await page.getByRole("link", { name: "Cohort 001 Data" }).click();
  await page.getByRole("heading", { level: 1, name: "Cohort 001 Data" }).waitFor();
  await page.getByRole("table").waitFor();
  assert.ok(!page.url().includes("@"), "no email in the URL");
  await checkA11y(page, "03-group-page");

  await page.getByLabel("Status").selectOption("COMPLETED");
  await page.getByText(/^1–\d+ of \d+$/).waitFor();
  await page.waitForFunction(() => !document.querySelector("[aria-busy=true]"));
  const statuses = await page.locator("tbody tr td:nth-child(4)").allInnerTexts();
  assert.ok(statuses.length > 0 && statuses.every((s) => s === "Completed"), statuses.join());
  const course = await page.getByLabel("Course").locator("option").nth(1).innerText();
  await page.getByLabel("Course").selectOption({ label: course });
  await page.waitForFunction(() => !document.querySelector("[aria-busy=true]"));
  const courses = await page.locator("tbody tr td:nth-child(3)").allInnerTexts();
  assert.ok(courses.every((c) => c === course), courses.join());

  const name = (await page.locator("tbody tr th").first().innerText()).split(" ")[1];
  await page.getByLabel("Status").selectOption("");
  await page.getByLabel("Search name or email").fill(name);
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForFunction(() => !document.querySelector("[aria-busy=true]"));
  const names = await page.locator("tbody tr th").allInnerTexts();
  assert.ok(names.length > 0 && names.every((n) => n.includes(name)), names.join());
  await shot(page, "04-group-filtered");

  const [csv] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Export CSV" }).click(),
  ]);
  assert.match(csv.suggestedFilename(), /^group-progress-\d{4}-\d{2}-\d{2}\.csv$/);
  const text = readFileSync(await csv.path(), "utf8");
  assert.equal(text.split("\r\n")[0], HEADER);
  assert.ok(text.split("\r\n").slice(1).every((line) => line === "" || line.includes(course)));

  const [xlsx] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Export Excel" }).click(),
  ]);
  assert.match(xlsx.suggestedFilename(), /^group-progress-\d{4}-\d{2}-\d{2}\.xlsx$/);
  assert.equal(xlsxHeader(await xlsx.path()), HEADER);
  assertLoopbackOnly(page);
  await page.context().close();
});

test("the group page reads on a phone-width screen", async () => {
  const page = await newPage(shared.browser, shared.server.url, { width: 375, height: 800 });
  await signIn(page, "analyst@example.com");
  await page.getByRole("link", { name: "Cohort 002 Product" }).click();
  await page.getByRole("table").waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  await checkA11y(page, "05-group-phone");
  await page.context().close();
});

test("a student sees no report and no admin page", async () => {
  const page = await newPage(shared.browser, shared.server.url);
  await signIn(page, "student@example.com");
  await page.getByRole("heading", { name: "Nothing to report" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "Users" }).count(), 0);
  await page.goto("/admin/users");
  await page.getByText("This page is for site admins.").waitFor();
  assert.equal(await page.getByRole("table").count(), 0);
  await checkA11y(page, "06-student");
  await page.context().close();
});

test("an admin filters users, grants the role up to the seat limit and assigns a group", async () => {
  const page = await newPage(shared.browser, shared.server.url);
  await signIn(page, "admin@example.com");
  await page.getByRole("link", { name: "Users" }).click();
  await page.getByRole("table").waitFor();
  await page.getByLabel("Role").selectOption("GROUP_ANALYST");
  await page.getByText("1–2 of 2").waitFor();
  assert.deepEqual(await page.locator("tbody th").allInnerTexts(), ["Ana Analyst", "Pat Partner"]);
  await page.getByLabel("Group analyst for").selectOption({ label: "Cohort 001 Data" });
  await page.getByText("1–1 of 1").waitFor();
  assert.deepEqual(await page.locator("tbody th").allInnerTexts(), ["Ana Analyst"]);
  await checkA11y(page, "07-admin-users");

  // Two students: the first takes the plan's last seat, the second is refused.
  await page.getByLabel("Group analyst for").selectOption("");
  await page.getByLabel("Role").selectOption("STUDENT");
  await page.getByText(/^1–25 of \d+$/).waitFor();
  const students = page.locator("tbody th a");
  const first = await students.nth(1).innerText();
  const second = await students.nth(2).innerText();
  for (const [name, outcome] of [
    [first, "Roles saved."],
    [second, "The PRO_GROWTH plan includes 3 Group Analyst seats, and all of them are in use."],
  ]) {
    await page.getByRole("link", { name, exact: true }).click();
    await page.getByRole("heading", { level: 1, name }).waitFor();
    await page.getByLabel("Group Analyst").check();
    await page.getByRole("button", { name: "Save roles" }).click();
    await page.getByText(outcome).waitFor();
    await checkA11y(page, outcome === "Roles saved." ? "08-role-granted" : "09-seat-limit");
    await page.goBack();
    await page.getByRole("table").waitFor();
  }

  // The partner's ended assignment shows as ended, with its date.
  await page.getByLabel("Role").selectOption("GROUP_ANALYST");
  await page.getByRole("link", { name: "Pat Partner" }).click();
  await page.getByRole("tab", { name: "Group analyst" }).click();
  await page.getByText(/ended .*2026/).waitFor();
  // Unassigning ends the partner's access to Cohort 002 at once.
  await page.getByRole("button", { name: "Unassign Cohort 002 Product" }).click();
  await page.getByText("Unassigned from Cohort 002 Product.").waitFor();
  await page.goBack();
  await page.getByLabel("Group analyst for").selectOption({ label: "Cohort 002 Product" });
  await page.getByText("1–1 of 1").waitFor();
  assert.deepEqual(await page.locator("tbody th").allInnerTexts(), ["Ana Analyst"]);

  // Give Ana a third group, ending on a date.
  await page.getByRole("link", { name: "Ana Analyst" }).click();
  await page.getByRole("tab", { name: "Group analyst" }).click();
  await page.getByRole("combobox", { name: /^Group/ }).selectOption({ label: "Cohort 003 Engineering" });
  await page.getByLabel("End date (optional)").fill("2031-06-30");
  await page.getByRole("button", { name: "Assign group" }).click();
  await page.getByText("Assigned to Cohort 003 Engineering.").waitFor();
  await page.getByText(/until .*2031/).waitFor();
  await checkA11y(page, "10-assign-group");
  assertLoopbackOnly(page);
  await page.context().close();

  const analyst = await newPage(shared.browser, shared.server.url);
  await signIn(analyst, "analyst@example.com");
  assert.deepEqual(await groupNames(analyst), [
    "Cohort 001 Data",
    "Cohort 002 Product",
    "Cohort 003 Engineering",
  ]);
  await analyst.getByText(/your access ends .*2031/).waitFor();
  await shot(analyst, "11-analyst-after-assignment");

  // The partner, now left with only its expired assignment, sees that its access ended, and
  // when, but nothing of that group.
  const partner = await newPage(shared.browser, shared.server.url);
  await signIn(partner, "partner@example.com");
  await partner.getByText(/Your access to a group ended .*2026/).waitFor();
  assert.equal(await partner.getByText("Cohort 003 Engineering").count(), 0);
  await checkA11y(partner, "11b-partner-access-ended");
  await partner.context().close();
  await analyst.context().close();
});

test("sign out revokes the token; an expired token returns to sign-in with a message", async () => {
  const page = await newPage(shared.browser, shared.server.url);
  await signIn(page, "analyst@example.com");
  const token = await page.evaluate(() => sessionStorage.getItem("groupanalyst.token"));
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  const after = await fetch(`${shared.server.url}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: "{ viewer { id } }" }),
  });
  assert.equal(after.status, 401);

  // A token that stopped working (here: the one just revoked) sends the tab back to sign-in.
  await page.evaluate((t) => sessionStorage.setItem("groupanalyst.token", t), token);
  await page.reload();
  await page.getByText("Your session has ended. Please sign in again.").waitFor();
  await checkA11y(page, "12-session-ended");
  await page.context().close();
});

test("GraphiQL is served locally, titled, with a starter query and no stored headers", async () => {
  const page = await newPage(shared.browser, shared.server.url);
  await page.goto("/graphql");
  assert.equal(await page.title(), "Group Analyst API — GraphiQL");
  await page.getByText("Welcome to the Group Analyst API.").first().waitFor({ timeout: 30_000 });
  await page.getByText("Group Analyst API", { exact: true }).first().waitFor();
  await shot(page, "13-graphiql");
  const stored = await page.evaluate(() => Object.keys(localStorage).filter((k) => /headers/i.test(k)));
  assert.deepEqual(stored, []);
  assertLoopbackOnly(page);
  assert.deepEqual(page.consoleErrors.filter((e) => /Content Security Policy/.test(e)), []);
  await page.context().close();
});

test("the built pages load every script and style from this origin", () => {
  for (const page of ["index.html", "graphiql.html"]) {
    const html = readFileSync(resolve(import.meta.dirname, "../dist", page), "utf8");
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(sources.length > 0);
    assert.deepEqual(sources.filter((s) => !s.startsWith("/assets/")), [], page);
  }
});
