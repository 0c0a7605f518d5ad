// End-to-end: a subscription from our GraphiQL build in headless Chromium. The Headers pane's
// token travels in the WebSocket's connection_init; a change made over HTTP arrives in the
// result pane; no token, a bad token and a token revoked mid-stream each show a clear error.
import assert from "node:assert/strict";
import { test } from "node:test";
import { newPage, shot } from "./browser.mjs";
import { serverAndBrowser } from "./server.mjs";

const COHORT_001 = "R3JvdXA6MQ=="; // "Cohort 001 Data": the analyst's, student@example.com's
const SUBSCRIPTION = `subscription WatchCohort($groupIds: [ID!]) {
  progressChanged(groupIds: $groupIds) {
    student { email }
    course { name }
    progress { percentCompleted }
  }
}`;
const shared = serverAndBrowser();

async function graphql(query, variables = {}, token = null) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${shared.server.url}/graphql`, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

async function logIn(email) {
  const query = "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }";
  return (await graphql(query, { e: email, p: shared.server.password })).login.token;
}

async function lessonsOfFirstCourse(token) {
  const data = await graphql("{ viewer { progress { course { lessons { id } } } } }", {}, token);
  return data.viewer.progress[0].course.lessons.map((lesson) => lesson.id);
}

// Monaco editors: select everything, then insert the text as one edit (typing would trigger
// the editor's auto-closing brackets).
async function replaceText(editor, text) {
  await editor.click();
  await editor.press("ControlOrMeta+a");
  await editor.page().evaluate((value) => {
    const data = new DataTransfer();
    data.setData("text/plain", value);
    document.activeElement.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, text);
}

/** GraphiQL with the subscription, its variables and the given Headers pane, run. */
async function runSubscription(headers) {
  const page = await newPage(shared.browser, shared.server.url);
  await page.goto("/graphql");
  await page.getByText("Welcome to the Group Analyst API.").first().waitFor({ timeout: 30_000 });
  const visible = page.locator(".graphiql-editor:not(.hidden) .monaco-editor");
  await replaceText(visible.first(), SUBSCRIPTION);
  await page.getByRole("button", { name: "Variables" }).click();
  await replaceText(visible.last(), JSON.stringify({ groupIds: [COHORT_001] }));
  await page.getByRole("button", { name: "Headers" }).click();
  await replaceText(visible.last(), JSON.stringify(headers));
  await page.getByRole("button", { name: "Execute query (Ctrl-Enter)" }).click();
  return page;
}

function result(page) {
  return page.locator(".result-window");
}

// The result pane's text without any white space: Monaco wraps long lines where it likes.
async function shown(page) {
  return (await result(page).innerText()).replace(/\s+/g, "");
}

/** Wait until the result pane shows `expected` (white space aside); its text. */
async function waitForShown(page, expected, timeout = 15_000) {
  const wanted = expected.replace(/\s+/g, "");
  const deadline = Date.now() + timeout;
  for (;;) {
    const text = await shown(page);
    if (text.includes(wanted)) return text;
    if (Date.now() > deadline) assert.fail(`GraphiQL did not show ${expected}; it shows ${text}`);
    await page.waitForTimeout(200);
  }
}

test("a subscription in GraphiQL receives the change a student makes over HTTP", async () => {
  const analyst = await logIn("analyst@example.com");
  const student = await logIn("student@example.com");
  const lessons = await lessonsOfFirstCourse(student);
  const page = await runSubscription({ Authorization: `Bearer ${analyst}` });
  await page.waitForTimeout(1500); // the subscription is listening
  const done = await graphql(
    "mutation($l: ID!) { completeLesson(input: {lessonId: $l}) { changed progress { percentCompleted } } }",
    { l: lessons[2] },
    student,
  );
  assert.equal(done.completeLesson.changed, true);
  const percent = String(done.completeLesson.progress.percentCompleted);
  await waitForShown(page, `"progressChanged": { "student": { "email": "student@example.com" },
    "course": { "name": "Intro to Data Analysis" }, "progress": { "percentCompleted": ${percent} }`);
  assert.deepEqual(page.consoleErrors.filter((e) => /Content Security Policy/.test(e)), []);
  await shot(page, "14-graphiql-subscription");

  // The analyst's token is revoked while it watches: the stream ends with the reason.
  await graphql("mutation { logout { apiToken { id } } }", {}, analyst);
  await graphql(
    "mutation($l: ID!) { completeLesson(input: {lessonId: $l}) { changed } }",
    { l: lessons[3] },
    student,
  );
  await waitForShown(page, "The server closed the subscription (4403): Token revoked or expired");
  await page.context().close();
});

test("GraphiQL shows why a subscription without a token, or with a bad one, is refused", async () => {
  const anonymous = await runSubscription({});
  await waitForShown(anonymous, `"code": "UNAUTHENTICATED"`);
  await anonymous.context().close();

  const bad = await runSubscription({ Authorization: "Bearer ga_not-a-real-token" });
  await waitForShown(
    bad,
    "The server closed the subscription (4403): The token is unknown, expired or revoked; log in again.",
  );
  await shot(bad, "15-graphiql-subscription-bad-token");
  await bad.context().close();
});
