// Issue 12's acceptance: the dashboard in a real headless Chromium against a real local cluster
// (`herd up --nodes 2 --demo`): sign in, both nodes and the demo containers, a migration started
// from the page and followed to its commit. Screenshots go to test-artifacts/ui/.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import type { Page } from "playwright-core";
import type { ClusterInfo } from "../../services/cli/src/local-cluster/local-cluster.js";
import { apiGet, herd, newCluster, repoRoot, waitFor } from "./support/cluster-harness.js";
import { launchChromium, type Browser } from "./support/chromium.js";

const artifacts = resolve(repoRoot, "test-artifacts/ui");
const cluster = newCluster();
let info: ClusterInfo;
let browser: Browser;
let page: Page;
const foreignRequests: string[] = [];
const pageErrors: string[] = [];

const shot = (name: string) => page.screenshot({ path: resolve(artifacts, `${name}.png`), fullPage: true });
const row = (node: string, name: string) => page.locator(`[data-node-containers="${node}"] tr[data-container="${name}"]`);

describe("web dashboard in headless Chromium on a real two-node cluster", { timeout: 600_000 }, () => {
  before(async () => {
    assert.equal(cluster.info(), undefined, "a local cluster is already up: run `herd down` before the integration tests");
    await mkdir(artifacts, { recursive: true });
    const r = await herd("up", "--nodes", "2", "--demo");
    assert.equal(r.code, 0, `herd up failed: ${r.stderr}`);
    info = cluster.info()!;
    browser = await launchChromium();
    page = await browser.context.newPage();
    const origin = new URL(info.apiUrl).origin;
    page.on("request", (req) => {
      if (!req.url().startsWith(origin) && !req.url().startsWith("data:")) foreignRequests.push(req.url());
    });
    page.on("pageerror", (err) => pageErrors.push(err.message));
  });

  after(async () => {
    await browser?.close();
    if (cluster.info() !== undefined) await cluster.down().catch(() => undefined);
  });

  it("asks for the token, refuses a wrong one, and keeps the right one out of the URL", async () => {
    await page.goto(new URL("/ui/", info.apiUrl).href);
    await page.locator("#token").waitFor();
    await shot("01-login");
    await page.fill("#token", "not-the-token-0123456789");
    await page.click("#login button[type=submit]");
    await page.getByText("Invalid token.").waitFor();
    await page.fill("#token", info.apiToken);
    await page.click("#login button[type=submit]");
    await page.locator("nav a[data-tab=cluster]").waitFor();
    assert.ok(!page.url().includes(info.apiToken), "token must not appear in the URL");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("herd.token")), info.apiToken);
  });

  it("shows both nodes up and the demo containers with sparklines, live", async () => {
    for (const n of ["n1", "n2"]) await page.locator(`article.node[data-node="${n}"] .pill.ok`).waitFor({ timeout: 30_000 });
    for (const name of ["demo-counter", "demo-cpuburn", "demo-memhold"]) await page.locator(`tr[data-container="${name}"]`).waitFor({ timeout: 30_000 });
    // Sparklines fill as telemetry arrives over the stream (two points make a line).
    await waitFor(
      "a sparkline with several points for demo-cpuburn",
      async () => ((await page.locator('tr[data-container="demo-cpuburn"] path.cpu').getAttribute("d")) ?? "").split("L").length >= 3,
      30_000,
    );
    const cpu = await page.locator('tr[data-container="demo-cpuburn"] td.cpu').textContent();
    assert.match(cpu ?? "", /%/);
    await page.getByText(/^live · updated/).waitFor();
    await shot("02-cluster");
  });

  it("refuses a migration to the container's own node with the CLI's error", async () => {
    const counter = (await apiGet<{ nodeId: string }>(info, "/containers/demo-counter")).nodeId;
    await row(counter, "demo-counter").locator("button[data-move]").click();
    await page.locator("#migrate-form").waitFor();
    assert.equal(await page.locator("#m-container").inputValue(), "demo-counter");
    await page.selectOption("#m-to", counter);
    await page.click("#m-start");
    const note = page.locator("#m-result .note.bad");
    await note.waitFor();
    const shown = (await note.textContent()) ?? "";
    const cli = await herd("migrate", "demo-counter", "--to", counter);
    assert.notEqual(cli.code, 0);
    const cliMessage = cli.stderr
      .trim()
      .split("\n")
      .pop()!
      .replace(/^herd: (invalid input: )?/, "");
    assert.ok(cliMessage.length > 5, cli.stderr);
    assert.ok(shown.includes(cliMessage.slice(0, 40)), `page said "${shown}", CLI said "${cli.stderr.trim()}"`);
    await shot("03-refused");
  });

  it("starts a migration from the page and shows it live until it commits", async () => {
    const from = (await apiGet<{ nodeId: string }>(info, "/containers/demo-counter")).nodeId;
    const to = from === "n1" ? "n2" : "n1";
    await page.selectOption("#m-to", to);
    await page.click("#m-check");
    await page.locator("#m-result .note.ok").getByText("would move").waitFor({ timeout: 60_000 });
    await page.click("#m-start");
    await page.locator("#m-result .note.ok").getByText("started").waitFor({ timeout: 60_000 });
    const id = await page.locator("#m-detail article.migration").getAttribute("data-migration");
    assert.ok(id);
    // Steps fill in live from the stream while it runs.
    await page.locator(`#m-detail article[data-migration="${id}"] li.step.done[data-step="describe"]`).waitFor({ timeout: 60_000 });
    if ((await page.locator(`#m-detail article[data-migration="${id}"]`).getAttribute("data-state")) === "running") await shot("04-migrating");
    await page.locator(`#m-detail article[data-migration="${id}"][data-state="committed"]`).waitFor({ timeout: 180_000 });
    const doneSteps = await page.locator(`#m-detail article[data-migration="${id}"] li.step.done`).count();
    assert.ok(doneSteps >= 8, `steps done on the page: ${doneSteps}`);
    const frozen = (await page.locator(`#m-detail article[data-migration="${id}"] [data-frozen]`).textContent()) ?? "";
    assert.match(frozen, /\d+(\.\d+)? (ms|s)/);
    await shot("05-committed");
    const rec = await apiGet<{ state: string; destination: string }>(info, `/migrations/${id}`);
    assert.equal(rec.state, "committed");
    assert.equal(rec.destination, to);
    // The cluster view moves the row to the destination node.
    await page.click("nav a[data-tab=cluster]");
    await row(to, "demo-counter").waitFor({ timeout: 30_000 });
    // …and, once the source's agent reports again, shows exactly one copy: the source's is gone.
    await waitFor("one demo-counter row on the page", async () => (await page.locator('tr[data-container="demo-counter"]').count()) === 1, 30_000);
    await shot("06-cluster-after");
  });

  it("shows the rebalance plan with reasons, a container's forecast with the chosen model, and the jobs", async () => {
    await page.click("nav a[data-tab=plan]");
    await page.locator("#plan-moves").waitFor({ timeout: 60_000 });
    await shot("07-plan");
    await page.click("nav a[data-tab=forecast]");
    await page.selectOption("#f-container", "demo-cpuburn");
    // The CLI's defaults (horizon 6, 10 s steps): what `herd forecast demo-cpuburn` shows.
    await page.click("#f-form button[type=submit]");
    const outcome = page.locator("#f-chosen, #f-out .note.bad");
    await outcome.first().waitFor({ timeout: 120_000 });
    const bad = page.locator("#f-out .note.bad");
    if (await bad.count()) assert.fail(`forecast failed on the page: ${await bad.textContent()}`);
    assert.ok(((await page.locator("#f-chosen").textContent()) ?? "").length > 0);
    // With a fresh cluster's short history the back-test may hold a single point: the chart is there either way.
    await page.locator("#f-out svg.chart").waitFor();
    await shot("08-forecast");
    // Jobs (the jobs API): the list or its empty state, without an error.
    await page.click("nav a[data-tab=jobs]");
    await page.locator("#jobs, #j-out .empty, #j-out .note.bad").first().waitFor({ timeout: 30_000 });
    assert.equal(await page.locator("#j-out .note.bad").count(), 0, (await page.locator("#j-out").textContent()) ?? "");
  });

  it("loaded nothing from another origin and threw no script errors", () => {
    assert.deepEqual(foreignRequests, []);
    assert.deepEqual(pageErrors, []);
  });
});
