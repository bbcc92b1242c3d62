/**
 * `ingest/worker-from-sources.mjs`: a worker thread's TypeScript started from the sources through
 * a bundle that esbuild (a child process) makes once and remakes when a source changes.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { ROOT, tempDir } from "../support/helpers.ts";

const BOOT = pathToFileURL(join(ROOT, "ingest", "worker-from-sources.mjs")).href;

/** A tiny worker from TypeScript sources in a folder of its own; `start(cache)` runs it once. */
function project() {
  const root = tempDir("cibles-worker-sources-");
  mkdirSync(join(root, "lib"));
  writeFileSync(join(root, "package.json"), '{ "type": "module" }\n');
  writeFileSync(
    join(root, "entry.ts"),
    `import { parentPort } from "node:worker_threads";
import { value, where } from "./lib/value.ts";
const n: number = value;
parentPort?.postMessage({ n, where, entry: import.meta.url });
`,
  );
  const setValue = (n: number) =>
    writeFileSync(
      join(root, "lib", "value.ts"),
      `export const value: number = ${n};\nexport const where: string = import.meta.url;\n`,
    );
  setValue(1);
  const start = (cache: string) => {
    const boot = join(root, `boot-${readdirSync(root).length}.mjs`);
    writeFileSync(
      boot,
      `import { importFromSources } from ${JSON.stringify(BOOT)};
await importFromSources(new URL("./entry.ts", import.meta.url), { root: ${JSON.stringify(root)}, cache: ${JSON.stringify(cache)} });
`,
    );
    return new Promise<{ n: number; where: string; entry: string }>((resolve, reject) => {
      const w = new Worker(boot);
      w.once("message", (m) => {
        resolve(m);
        void w.terminate();
      });
      w.once("error", reject);
      w.once("exit", (code) => reject(new Error(`le worker s'est arrêté sans message (code ${code})`)));
    });
  };
  return { root, setValue, start };
}

describe("a worker started from the sources", () => {
  it("runs from a bundle made once, remade when a source changes, each module keeping its own URL", async () => {
    const { root, setValue, start } = project();
    const cache = join(root, "cache");
    const expected = {
      where: pathToFileURL(join(root, "lib", "value.ts")).href,
      entry: pathToFileURL(join(root, "entry.ts")).href,
    };
    expect(await start(cache)).toEqual({ n: 1, ...expected });
    const manifest = join(cache, "entry.json");
    const made = statSync(manifest).mtimeMs;
    const bundles = () => readdirSync(cache).filter((f) => f.endsWith(".mjs"));
    expect(bundles()).toHaveLength(1);

    // Unchanged sources: the same bundle, not remade.
    expect(await start(cache)).toEqual({ n: 1, ...expected });
    expect(statSync(manifest).mtimeMs).toBe(made);

    // A source that changes is seen at the next start.
    setValue(2);
    expect(await start(cache)).toEqual({ n: 2, ...expected });
    expect(bundles()).toHaveLength(2);
  });

  it("loads the sources through tsx when no bundle can be written", async () => {
    const { root, start } = project();
    // A cache folder inside a file: no folder can be made there.
    expect((await start(join(root, "entry.ts", "cache"))).n).toBe(1);
  });
});
