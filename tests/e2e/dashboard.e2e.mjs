// End-to-end test of the incident dashboard (issue 6, point 7): a real
// `warden run` on a temp store with port-0 listeners and a tokens config,
// a kill-switch session fed into the followed file, the page at /incidents
// driven in headless Chromium (Debian's, through playwright-core): the
// token entered in the form, the HALTED banner and the P0 incident row
// awaited, the Kafka lag panel's "Kafka is not configured" (no Kafka
// input), the incident opened and acknowledged from its page; then the
// API (GET /api/v1/incidents/{id}) must show status "acknowledged" and a
// timeline entry by the token's name. Screenshots of the list page and of
// the incident page after the acknowledgement go to $E2E_ARTIFACTS
// (default: a fresh temp dir; printed). warden is stopped with SIGTERM and
// must exit 0.
//
// usage: node dashboard.e2e.mjs path/to/warden
// env:   CHROMIUM (default /usr/bin/chromium), E2E_ARTIFACTS
import { spawn } from "node:child_process";
import { openSync, mkdtempSync, mkdirSync, writeFileSync, appendFileSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const wardenPath = process.argv[2] && resolve(process.argv[2]);
if (!wardenPath) {
  console.error("usage: node dashboard.e2e.mjs path/to/warden");
  process.exit(2);
}
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";
const artifacts = resolve(process.env.E2E_ARTIFACTS || mkdtempSync(join(tmpdir(), "warden-e2e-artifacts-")));
mkdirSync(artifacts, { recursive: true });
console.log(`e2e: artifacts (screenshots, logs) in ${artifacts}`);

const RESP_NAME = "rosa";
const RESP = "responder-token-0123456789";
const VIEW = "viewer-token-0123456789";

const work = mkdtempSync(join(tmpdir(), "warden-e2e-"));
const cfg = join(work, "c.yaml");
const db = join(work, "s.db");
const input = join(work, "ev.jsonl");
const outLog = join(work, "out.jsonl");
const errLog = join(work, "err.log");
writeFileSync(cfg, `capital: 1000
session: {tz: UTC, open: "00:00", close: "23:59", days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun]}
tokens:
  - {name: vic, role: viewer, token: ${VIEW}}
  - {name: ${RESP_NAME}, role: responder, token: ${RESP}}
`);
writeFileSync(input, "");

let warden = null;
let exited = null; // {code, signal} once warden has exited
let browser = null;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (exited) throw new Error(`warden exited (${JSON.stringify(exited)}) while waiting for ${what}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
const readText = (f) => (existsSync(f) ? readFileSync(f, "utf8") : "");
const now = () => new Date().toISOString();

// The kill_pnl session of tests/integration/daemon_lib.sh: a buy of 100
// XYZ, acknowledged, filled at 10, then the price falls 6% (capital 1000):
// the PnL kill-switch halts account:default and opens a P0 incident.
function killPnlEvents() {
  return [
    { type: "quote", ts: now(), symbol: "XYZ", bid: 9.99, ask: 10.01 },
    { type: "intent", ts: now(), id: "o1", symbol: "XYZ", side: "BUY", qty: 100, source: "s" },
    { type: "ack", ts: now(), id: "o1", status: "accepted" },
    { type: "fill", ts: now(), id: "o1", symbol: "XYZ", side: "BUY", qty: 100, price: 10 },
    { type: "quote", ts: now(), symbol: "XYZ", bid: 9.39, ask: 9.41 },
  ].map((e) => JSON.stringify(e) + "\n").join("");
}

async function main() {
  // warden run on ephemeral loopback ports.
  warden = spawn(wardenPath, ["run", "--config", cfg, "--db", db, "--input", input,
    "--metrics-listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0"],
  { cwd: work, stdio: ["ignore", openSync(outLog, "w"), openSync(errLog, "w")] });
  const exitP = new Promise((res) => {
    warden.on("exit", (code, signal) => { exited = { code, signal }; res(exited); });
    warden.on("error", (e) => { exited = { error: e.message }; res(exited); });
  });

  const startLine = await until("the start log line with the API port", () =>
    readText(errLog).match(/ INFO run started .* api=(127\.0\.0\.1:\d+)/));
  const base = `http://${startLine[1]}`;
  console.log(`e2e: warden serving on ${base}`);

  async function api(path, token = RESP, init = {}) {
    const r = await fetch(`${base}/api/v1/${path}`, { ...init, headers: { Authorization: `Bearer ${token}` } });
    const t = await r.text();
    let j = null;
    try { j = JSON.parse(t); } catch { /* not JSON */ }
    return { status: r.status, json: j, text: t };
  }

  appendFileSync(input, killPnlEvents());
  await until("the kill_pnl incident in warden's output", () =>
    /"type":"incident".*"scenario":"kill_pnl"/.test(readText(outLog)));
  const list = await api("incidents");
  const inc = (list.json?.incidents || []).find((i) => i.scenario === "kill_pnl");
  if (!inc) throw new Error(`no kill_pnl incident through the API: ${list.text}`);
  if (inc.severity !== "P0") throw new Error(`the kill_pnl incident is ${inc.severity}, not P0`);
  const id = inc.id;
  console.log(`e2e: incident ${id} (${inc.severity}, ${inc.status})`);

  // The browser: Debian's chromium, no downloaded browser.
  browser = await chromium.launch({ executablePath: browserPath, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run"] });
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  const consoleLines = [];
  page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => consoleLines.push(`pageerror: ${e.message}`));

  try {
    await page.goto(`${base}/incidents`);
    // No token yet: the form asks for one.
    await page.locator("#login").waitFor({ state: "visible", timeout: 10000 });
    await page.locator("#token").fill(RESP);
    await page.locator("#loginform button[type=submit]").click();
    await page.locator("#app").waitFor({ state: "visible", timeout: 10000 });

    // The halt banner and the P0 row.
    await page.locator("#banners .banner.s-HALTED", { hasText: "account:default: HALTED" })
      .waitFor({ timeout: 15000 });
    const row = page.locator("#incidents tbody tr", { has: page.locator(`a[href="/incidents/${id}"]`) });
    await row.locator(".sev.sev-P0").waitFor({ timeout: 15000 });
    console.log("e2e: list page shows the HALTED banner and the P0 incident");
    // No Kafka input: the lag panel says so, its table hidden.
    await page.locator("#lag-off", { hasText: "Kafka is not configured" }).waitFor({ timeout: 15000 });
    if (await page.locator("#lag-table").isVisible()) throw new Error("the Kafka lag table is shown without Kafka");
    console.log("e2e: the Kafka lag panel says Kafka is not configured");
    // The panel with rows (this warden reads no Kafka: the API's document
    // of docs/API.md given in its place): sorted by topic then partition,
    // null as "-", a lag over the open threshold in red.
    await page.route("**/api/v1/kafka/lag", (r) => r.fulfill({ json: {
      group: "wardens", total: 1500, open: 1000, close: 100,
      merge: { held: 3, held_max: 40, released_late: 2, paused: 1, max_wait_ms: 50, backlog_wait_ms: 5000 },
      updated: "2026-11-27T10:00:01.000Z",
      partitions: [
        { topic: "order_intents", partition: 1, position: 5, high_watermark: 1505, lag: 1500 },
        { topic: "exec_reports", partition: 0, position: null, high_watermark: 0, lag: null },
        { topic: "order_intents", partition: 0, position: 10, high_watermark: 10, lag: 0 },
      ] } }));
    await page.locator("#lag-table tbody tr").nth(2).waitFor({ timeout: 15000 });
    const cells = await page.locator("#lag-table tbody tr").evaluateAll((trs) =>
      trs.map((tr) => [...tr.children].map((td) => td.textContent + (td.className ? `[${td.className}]` : "")).join(" ")));
    const want = ["exec_reports[mono] 0 - 0 -", "order_intents[mono] 0 10 10 0",
      "order_intents[mono] 1 5 1505 1500[over]"];
    if (JSON.stringify(cells) !== JSON.stringify(want)) throw new Error(`lag rows ${JSON.stringify(cells)}, not ${JSON.stringify(want)}`);
    if (!(await page.locator("#lag-off").isHidden())) throw new Error("\"not configured\" shown with rows");
    const info = await page.locator("#lag-info").textContent();
    if (!info.includes("total 1500") || !info.includes("as of 2026-11-27 10:00:01") ||
        !info.includes("partitions paused: 1") ||
        (await page.locator("#lag-info .over").textContent()) !== "total 1500") throw new Error(`lag summary: ${info}`);
    await page.unroute("**/api/v1/kafka/lag");
    console.log("e2e: the Kafka lag panel's rows: sorted, '-' for null, the lag over 1000 in red");
    await page.screenshot({ path: join(artifacts, "e2e-list.png"), fullPage: true });

    // The incident page, then Acknowledge.
    await row.locator(`a[href="/incidents/${id}"]`).click();
    await page.waitForURL(`**/incidents/${id}`);
    await page.locator("#detail").waitFor({ state: "visible", timeout: 10000 });
    const statusDd = page.locator("#d-fields dt:text-is('status') + dd");
    await statusDd.waitFor({ timeout: 15000 });
    const before = (await statusDd.textContent()).trim();
    console.log(`e2e: incident page, status ${before}`);
    if (before === "acknowledged") throw new Error("the incident is acknowledged before the click");
    await page.locator("#f-ack button[type=submit]").click();
    await page.locator("#d-fields dt:text-is('status') + dd", { hasText: "acknowledged" })
      .waitFor({ timeout: 15000 });
    await page.locator("#d-timeline tbody tr", { hasText: RESP_NAME }).first().waitFor({ timeout: 15000 });
    console.log("e2e: the page shows status acknowledged and the responder in the timeline");
    await page.screenshot({ path: join(artifacts, "e2e-incident-acked.png"), fullPage: true });
  } catch (e) {
    await page.screenshot({ path: join(artifacts, "e2e-failure.png"), fullPage: true }).catch(() => {});
    writeFileSync(join(artifacts, "e2e-failure.html"), await page.content().catch(() => ""));
    console.error("e2e: browser console:\n  " + consoleLines.join("\n  "));
    throw e;
  }
  await browser.close();
  browser = null;

  // The API agrees.
  const rec = await api(`incidents/${encodeURIComponent(id)}`);
  if (rec.status !== 200) throw new Error(`GET incidents/${id}: ${rec.status} ${rec.text}`);
  if (rec.json.status !== "acknowledged") throw new Error(`status through the API: ${rec.text}`);
  if (!(rec.json.acknowledged_ns > 0)) throw new Error(`no acknowledged_ns: ${rec.text}`);
  const tl = await api(`incidents/${encodeURIComponent(id)}/timeline`);
  const entry = (tl.json?.timeline || []).find((e) => e.who === RESP_NAME &&
    (e.to === "acknowledged" || /ack/i.test(e.kind || "")));
  if (!entry) throw new Error(`no timeline entry by ${RESP_NAME} for the acknowledgement: ${tl.text}`);
  console.log(`e2e: API: status acknowledged, timeline entry ${JSON.stringify(entry)}`);

  // SIGTERM: exit 0.
  warden.kill("SIGTERM");
  const st = await Promise.race([exitP, sleep(15000).then(() => null)]);
  if (!st) throw new Error("warden did not exit within 15 s of SIGTERM");
  warden = null;
  if (st.code !== 0) throw new Error(`warden exited ${JSON.stringify(st)} after SIGTERM: ${readText(errLog)}`);
  console.log("e2e: warden exited 0 after SIGTERM");
}

let rc = 0;
try {
  await main();
  console.log(`e2e: PASS (screenshots in ${artifacts})`);
} catch (e) {
  rc = 1;
  console.error(`e2e: FAIL: ${e.message}`);
  console.error(`e2e: warden's log:\n${readText(errLog)}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  if (warden && !exited) warden.kill("SIGKILL");
  for (const f of ["err.log", "out.jsonl"]) {
    try { writeFileSync(join(artifacts, `warden-${f}`), readText(join(work, f))); } catch { /* ignore */ }
  }
  rmSync(work, { recursive: true, force: true });
}
process.exit(rc);
