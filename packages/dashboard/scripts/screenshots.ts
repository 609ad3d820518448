// Writes docs/dashboard/*.png: every page of the dashboard over a fresh SQLite store with real runs.
// Run with `npm run screenshots -w @cairn/dashboard` (needs /usr/bin/chromium). Tests never write these files.
import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { submit } from "@cairn/worker";
import { fileURLToPath } from "node:url";
import { serveDashboard } from "../src/index.js";
import { launchChromium } from "../test/support/browser.js";
import { CAIRN_BIN, FIXTURES_DIR, freshStore, seed } from "../test/support/seeded-store.js";

const OUT = fileURLToPath(new URL("../../../docs/dashboard/", import.meta.url));

const store = await freshStore();
const seeded = await seed(store);
// A worker that stays up, holding one run, so the pages show live work too.
const worker = spawn(
  process.execPath,
  [CAIRN_BIN, "worker", "--quiet", "--workflows", FIXTURES_DIR, "--backend", store.url],
  { stdio: "ignore" },
);
const held = (await submit(store.backend, { workflow: "hold", tags: ["demo"] })).runId;
await submit(store.backend, {
  workflow: "hello",
  input: { name: "Later" },
  availableAtUs: store.backend.clock.nowUs() + 3_600_000_000,
});
const holding = async () => (await store.backend.loadRun("hold", held)).some((s) => s.status === "running");
for (let i = 0; i < 100 && !(await holding()); i++) await new Promise((r) => setTimeout(r, 100));
await new Promise((r) => setTimeout(r, 1500)); // a presence record and a heartbeat
const server = await serveDashboard({ backend: store.backend, port: 0 });
const browser = await launchChromium({ viewport: { width: 1280, height: 860 } });
try {
  await mkdir(OUT, { recursive: true });
  const page = await browser.context.newPage();
  const groups = await store.backend.getErrorsList({ limit: 1 });
  const shots: Array<[string, string]> = [
    ["overview", "/"],
    ["runs", "/runs?workflow=report"],
    ["run-detail", `/runs/${seeded.reportFailed[0]}?step=render`],
    ["run-timeline-retries", `/runs/${seeded.flaky}?step=call-api`],
    ["errors", "/errors"],
    ["error-group", `/errors/${groups.errors[0]!.fingerprint}`],
    ["workflows", "/workflows"],
    ["workflow-detail", "/workflows/etl"],
    ["workers", "/workers"],
    ["confirm-bulk-rerun", "/bulk/confirm?action=rerun&workflow=report&status=failed"],
  ];
  for (const [name, path] of shots) {
    await page.goto(server.url + path);
    if (name === "overview") await page.waitForSelector("#runs-chart[data-drawn]");
    await page.screenshot({
      path: `${OUT}${name}.png`,
      fullPage: name !== "run-detail" && name !== "run-timeline-retries",
    });
    console.log(`docs/dashboard/${name}.png`);
  }
} finally {
  await browser.close();
  await server.close();
  worker.kill("SIGTERM");
  await new Promise((r) => worker.once("close", r));
  await store.cleanup();
}
