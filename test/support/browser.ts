/**
 * What the Chromium tests share: Debian's browser (never downloaded), the dashboard built once per
 * file into a temporary folder, an app served on 127.0.0.1, and a test that fails in French when
 * the browser is absent (CI installs it; nothing is skipped silently).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { type Browser, chromium } from "playwright-core";
import { build } from "vite";
import { it } from "vitest";
import { ROOT, tempDir } from "./helpers.ts";

export const CHROMIUM = "/usr/bin/chromium";

/** True when Chromium is there; otherwise declares the failing test that says how to get it. */
export function chromiumOrFail(): boolean {
  if (existsSync(CHROMIUM)) return true;
  it("needs Debian's chromium (installed by .ci/run)", () => {
    throw new Error(`${CHROMIUM} absent : installez le paquet Debian chromium (.ci/run le fait)`);
  });
  return false;
}

/** The dashboard built (Vite) into a fresh temporary folder; returns the folder. */
export async function buildDashboard(): Promise<string> {
  const outDir = tempDir("cibles-dashboard-");
  await build({
    configFile: join(ROOT, "dashboard", "vite.config.ts"),
    logLevel: "error",
    build: { outDir, emptyOutDir: true },
  });
  return outDir;
}

/** Headless Chromium, quiet (no network of its own, no first-run pages). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
}

/** Serves `fetch` on 127.0.0.1 (`port`, or one the system picks); its base URL and how to close it. */
export async function serveOnLocalhost(
  fetch: (req: Request) => Response | Promise<Response>,
  port = 0,
): Promise<{ base: string; close: () => Promise<void> }> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch, port, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const addr = server.address() as { port: number };
  return { base: `http://127.0.0.1:${addr.port}`, close: () => new Promise((r) => server.close(() => r())) };
}
