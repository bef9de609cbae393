// The live view in a real browser (headless Chromium from @sparticuz/chromium, driven by
// puppeteer-core). Run through `cargo test --test web`, which passes the tcplab binary:
//
//   TCPLAB_BIN      the tcplab binary to run (nothing is built here)
//   TCPLAB_WEB_OUT  a folder for the screenshots and the gauge texts the Rust side checks
//
// Every wait has a bound, and every wait is for something the page or a process shows: a line on
// stderr, an element in the DOM, an exit.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const path = require("node:path");
const chromium = require("@sparticuz/chromium");
const puppeteer = require("puppeteer-core");

const BIN = process.env.TCPLAB_BIN;
const OUT = process.env.TCPLAB_WEB_OUT || path.join(__dirname, "out");
const FIXTURES = path.join(__dirname, "..", "fixtures");
const BOUND_MS = 60_000;
const SIZES = [[1280, 720], [1920, 1080]];
// 15 bytes, the most a thread name holds: as HTML it would make an element with id "x".
const HOSTILE = "<b id=x>pwn</b>";

if (!BIN) throw new Error("TCPLAB_BIN is not set: run this through 'cargo test --test web'");
fs.mkdirSync(OUT, { recursive: true });

let browser;
const children = [];

test.before(async () => {
  browser = await puppeteer.launch({
    executablePath: await chromium.executablePath(),
    args: chromium.args,
    headless: true,
  });
});

test.after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  if (browser) await browser.close();
});

/** Starts a process and keeps what it prints. */
function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...opts });
  child.out = "";
  child.err = "";
  child.stdout.on("data", (d) => (child.out += d));
  child.stderr.on("data", (d) => (child.err += d));
  child.done = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  children.push(child);
  return child;
}

function describe(child) {
  return `\n--- stdout ---\n${child.out.slice(-4000)}\n--- stderr ---\n${child.err.slice(-4000)}`;
}

/** Waits until `f()` is truthy, polling, or fails saying `what` never happened. */
async function until(what, f, child) {
  const end = Date.now() + BOUND_MS;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`never happened within ${BOUND_MS} ms: ${what}${child ? describe(child) : ""}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function exited(child, what) {
  let timer;
  const bound = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not exit within ${BOUND_MS} ms${describe(child)}`)), BOUND_MS);
  });
  try {
    return await Promise.race([child.done, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** The URL tcplab announces on its first stderr line. */
async function announced(child) {
  const line = await until("the live view's URL on the first stderr line", () => {
    const first = child.err.split("\n")[0];
    return child.err.includes("\n") ? first : null;
  }, child);
  const m = /^tcplab: live view at (http:\/\/\S+)$/.exec(line);
  assert.ok(m, `the first stderr line announces the URL: ${JSON.stringify(line)}`);
  return m[1];
}

async function newPage(errors, [w, h] = SIZES[0]) {
  const page = await browser.newPage();
  await page.setViewport({ width: w, height: h });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  page.on("dialog", async (d) => { errors.push(`a dialog opened: ${d.message()}`); await d.dismiss(); });
  return page;
}

async function screenshots(page, name) {
  for (const [w, h] of SIZES) {
    await page.setViewport({ width: w, height: h });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await page.screenshot({ path: path.join(OUT, `${name}-${w}x${h}.png`) });
  }
}

test("the deadlock run, live: the gauges and the ledger are the run's own numbers, and a viewer that leaves changes nothing", async () => {
  const timeline = path.join(OUT, "deadlock.csv");
  // Paced so that the run lasts a few seconds: long enough for a viewer to come and go mid-run.
  const run = start(BIN, ["deadlock", "--web", "0", "--web-linger", "0s", "--sndbuf", "16K", "--rcvbuf", "16K",
    "--pace", "40KiB/s", "--json", "--timeline", timeline]);
  const url = await announced(run);
  const errors = [];

  // A viewer that comes and leaves in the middle of the run: a browser tab, and a raw stream that
  // is cut off.
  const leaving = await newPage(errors);
  await leaving.goto(url);
  await leaving.waitForSelector('#status[data-state="live"]', { timeout: BOUND_MS });
  await leaving.waitForSelector('.queue[data-bytes]', { timeout: BOUND_MS });
  const cut = net.connect(new URL(url).port, "127.0.0.1");
  cut.write("GET /events HTTP/1.1\r\nHost: test\r\n\r\n");
  await new Promise((r) => cut.once("data", r));
  cut.destroy();
  assert.equal(await leaving.$(".verdict-box"), null, "the viewer left before the verdict (mid-run)");
  assert.equal(run.exitCode, null, "the run was still going when the viewer left");
  await leaving.close();

  const page = await newPage(errors);
  await page.goto(url);
  await page.waitForSelector('.verdict-box[data-outcome="deadlock"]', { timeout: BOUND_MS });

  const { code } = await exited(run, "tcplab deadlock --web");
  assert.equal(code, 3, `a deadlock exits 3${describe(run)}`);
  const result = JSON.parse(run.out);
  assert.equal(result.outcome, "deadlock");
  const ledger = result.ledger;

  // The four gauges: the sample the verdict rests on, byte for byte.
  const gauges = await page.$$eval(".queue", (qs) => qs.map((q) => ({
    queue: q.dataset.queue, bytes: Number(q.dataset.bytes), capacity: Number(q.dataset.capacity),
    text: q.querySelector(".bytes").textContent,
  })));
  assert.deepEqual(gauges.map((g) => g.queue), ["client_send", "server_recv", "server_send", "client_recv"],
    "the four queues in the order the bytes travel");
  const stage = { client_send: "client_send_queue", server_recv: "server_recv_queue",
    server_send: "server_send_queue", client_recv: "client_recv_queue" };
  for (const g of gauges) {
    const s = ledger[stage[g.queue]];
    assert.equal(g.bytes, s.bytes, `${g.queue}: the gauge shows the ledger's bytes`);
    assert.equal(g.capacity, s.capacity_bytes, `${g.queue}: against the ledger's capacity`);
  }
  // The ledger table: every stage.
  const rows = await page.$$eval("table.ledger tr", (trs) => trs.map((t) => ({ stage: t.dataset.stage, bytes: Number(t.dataset.bytes), text: t.querySelector(".bytes").textContent })));
  assert.equal(rows.length, 8);
  for (const r of rows) assert.equal(r.bytes, ledger[r.stage].bytes, `ledger row ${r.stage}`);
  // The narrated events, in the run's order.
  const events = await page.$$eval("#events li", (lis) => lis.map((l) => l.dataset.event));
  assert.deepEqual(events, result.events.map((e) => e.event));
  const exit = await page.$eval(".verdict-box .exit", (e) => e.textContent);
  assert.equal(exit, "exit code 3");
  // The texts, for the Rust side to hold against humansize itself; with them, the page's formatter
  // on the edges: whole units, exact ties (1152 B is 1.125 KiB), the last value before a unit.
  const edges = await page.evaluate(() => [0, 1, 1023, 1024, 1152, 1408, 1536, 130990, 131072, 1048575,
    1048576, 3932160, 5 * 2 ** 30 + 12345].map((n) => [n, window.tcplabHuman(n)]));
  fs.writeFileSync(path.join(OUT, "deadlock-texts.json"), JSON.stringify(
    gauges.map((g) => [g.bytes, g.text]).concat(rows.map((r) => [r.bytes, r.text]), edges)));
  await screenshots(page, "deadlock");
  await page.close();
  assert.deepEqual(errors, []);

  // The same run as one offline file.
  const html = path.join(OUT, "deadlock.html");
  const rep = start(BIN, ["replay", timeline, "--html", html]);
  assert.equal((await exited(rep, "tcplab replay --html")).code, 0, describe(rep));
  const offline = await newPage(errors);
  await offline.goto("file://" + html);
  await offline.waitForSelector('#status[data-state="ended"]', { timeout: BOUND_MS });
  const played = await offline.$$eval("#events li", (lis) => lis.map((l) => l.dataset.event));
  assert.deepEqual(played, result.events.map((e) => e.event), "the recording plays every event");
  await offline.close();
  assert.deepEqual(errors, []);
});

test("watch on a small class: the deadlocked connections come first, and a hostile program name stays text", async () => {
  const server = start(BIN, ["server", "127.0.0.1", "--port", "0", "--quiet", "--sndbuf", "16K", "--rcvbuf", "16K",
    "--idle-timeout", "120s"]);
  const port = await until("the server's port", () => {
    const m = /listening on 127\.0\.0\.1:(\d+)/.exec(server.out);
    return m && m[1];
  }, server);
  const watch = start(BIN, ["watch", "--port", port, "--web", "0", "--web-linger", "0s", "--timeout", "120s"]);
  const url = await announced(watch);
  const errors = [];
  const page = await newPage(errors);
  await page.goto(url);
  await page.waitForSelector('#status[data-state="live"]', { timeout: BOUND_MS });

  // Two classic clients that never read, one named by its student in HTML; one client that
  // finishes (paced, so that watch finds it before it ends); one that keeps flowing while the test
  // looks.
  const named = (name) => [
    "-c",
    "import ctypes, runpy, sys; ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0); " +
      "sys.argv = [sys.argv[2]] + sys.argv[3:]; runpy.run_path(sys.argv[0], run_name='__main__')",
    name, path.join(FIXTURES, "tcp_deadlock.py"), "client", "127.0.0.1", "100000000", "-p", port,
  ];
  start("python3", named(HOSTILE));
  start("python3", named("student-2"));
  const done = start(BIN, ["client", "-p", port, "--strategy", "reader-thread", "--bytes", "3MiB", "--pace", "1MiB/s", "--json"]);
  start(BIN, ["client", "-p", port, "--strategy", "reader-thread", "--bytes", "64MiB", "--pace", "256KiB/s",
    "--timeout", "120s", "--quiet"]);
  assert.equal((await exited(done, "the client that finishes")).code, 0, describe(done));

  const states = async () => page.$$eval("#dash-rows tr", (trs) => trs.map((t) => t.dataset.state));
  const end = Date.now() + BOUND_MS;
  let seen = [];
  for (;;) {
    seen = await states();
    const dead = seen.filter((s) => s === "deadlocked").length;
    if (dead === 2 && seen.length >= 4 && seen.includes("closed") && seen.includes("flowing")) break;
    if (Date.now() > end) throw new Error(`the dashboard never showed 2 deadlocked, 1 flowing and 1 closed row: ${seen}${describe(watch)}`);
    await page.waitForFunction((before) => JSON.stringify(Array.from(document.querySelectorAll("#dash-rows tr")).map((t) => t.dataset.state)) !== before,
      { timeout: BOUND_MS }, JSON.stringify(seen)).catch(() => {});
  }
  assert.deepEqual(seen.slice(0, 2), ["deadlocked", "deadlocked"], `the stuck ones first: ${seen}`);
  assert.ok(!seen.slice(2).includes("deadlocked"));

  // The hostile name: shown as the very characters, in the table and in the verdict, never as HTML.
  const programs = await page.$$eval("#dash-rows .programs", (tds) => tds.map((t) => t.textContent));
  assert.ok(programs.some((p) => p.includes(HOSTILE)), `the name as text in the table: ${programs}`);
  await page.waitForFunction((h) => Array.from(document.querySelectorAll(".who-waits li")).some((l) => l.textContent.includes(h)),
    { timeout: BOUND_MS }, HOSTILE);
  assert.equal(await page.$("#x"), null, "no element was made from the name");
  assert.equal(await page.$("#dash-rows b"), null);
  await screenshots(page, "dashboard");
  assert.deepEqual(errors, []);

  watch.kill("SIGINT");
  const w = await exited(watch, "tcplab watch --web after Ctrl-C");
  assert.equal(w.code, 130, `Ctrl-C ends watch with 130${describe(watch)}`);
  for (const c of children) if (c !== server && c.exitCode === null) c.kill("SIGKILL");
  server.kill("SIGINT");
  await exited(server, "tcplab server");
  await page.close();
});
