// The Web SDK "Access Custom User Data" flow in headless Chromium: a page
// from the test's own origin (RULEGATE_ORIGIN) loads realm-web 2.0.1's
// browser bundle and runs lib/flow.mjs against rulegate serve on another
// port, so every call is cross-origin and its CORS preflight must pass.
// Chromium is Debian's (/usr/bin/chromium, or $CHROMIUM), driven by
// playwright-core, which never downloads a browser of its own.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { checkFlow } from "../lib/check.mjs";
import { env, origin, servers, suffix } from "../lib/harness.mjs";

test("the custom user data flow in Chromium, cross-origin", async () => {
  const profile = await mkdtemp(join(tmpdir(), "rulegate-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: env("CHROMIUM"),
    headless: true,
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
  try {
    const page = context.pages()[0] || (await context.newPage());
    const problems = [];
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      const url = m.location().url || "";
      // The refused update of bob's document is logged by Chromium as a
      // failed resource; it is expected.
      if (/Failed to load resource: the server responded with a status of 40[03]/.test(m.text()) && url.endsWith("/functions/call")) return;
      problems.push(`console: ${m.text()} (${url})`);
    });
    const requests = [];
    page.on("request", (r) => requests.push(`${r.method()} ${r.url()}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.method()} ${r.url()}: ${r.failure() && r.failure().errorText}`));

    await page.goto(`${origin}/`);
    await page.waitForFunction(() => typeof window.runFlow === "function", null, { timeout: 10000 });
    const out = await page.evaluate((cfg) => window.runFlow(cfg), { ...servers.customdata, suffix: suffix() });
    assert.ok(!out.error, `the flow failed in the browser: ${JSON.stringify(out.error)}\n${problems.join("\n")}`);
    assert.deepEqual(problems, [], "no page errors, console errors or failed requests");
    checkFlow(out.obs, out.lines);
    // The calls went to the other origin. They carry Authorization and
    // Content-Type: application/json, so Chromium sent each after a CORS
    // preflight, which must have passed for the flow to succeed.
    const server = new URL(servers.customdata.baseUrl).origin;
    assert.notEqual(server, new URL(origin).origin, "the server is another origin than the page");
    assert.ok(requests.some((r) => r.startsWith(`POST ${server}/api/client/v2.0/app/`) && r.endsWith("/functions/call")), "mongoClient calls reached the server");
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
});
