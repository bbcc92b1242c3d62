/** `worklist` as a child process on the embedded database (cli.md). */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli-run.ts";
import { goldenRoot, SECRET, tempDir } from "../support/helpers.ts";

describe("worklist command (embedded database)", () => {
  // Several CLI processes on the embedded database in turn: 26 s alone, over 60 s once under the
  // full suite's load on 2 cores.
  it("prints the same document as the API, and re-identifies from a file with --match", async () => {
    const env = { DATA_DIR: tempDir("cibles-worklist-"), PSEUDONYMISATION_SECRET: SECRET };
    const mini = join(goldenRoot(), "mini");
    expect((await runCli(["referential", "import", join(mini, "referentiel.csv")], env)).code).toBe(0);
    // (the mini exports hold refused files on purpose: exit 1, the others loaded)
    expect((await runCli(["ingest", join(mini, "exports")], env)).stderr).toMatch(/lignes chargées/);
    const base = ["worklist", "--finess", "340000017", "--date", "2025-07-01", "--indicator", "agenda"];
    const r = await runCli([...base, "--json"], env);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { count: number; dossiers: { ref: string }[] };
    expect(doc.count).toBe(doc.dossiers.length);
    const m = await runCli([...base, "--match", join(mini, "exports", "agenda.csv"), "--csv"], env);
    expect(m.code).toBe(0);
    expect(m.stdout.startsWith("\uFEFFIdentifiant dans le DUI;")).toBe(true);
    const bad = await runCli([...base.slice(0, 5), "--indicator", "mss"], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/pas des personnes/);
    const usage = await runCli(
      ["worklist", "--finess", "340000017", "--date", "2025-07-01", "--indicator", "x"],
      env,
    );
    expect(usage.code).toBe(2);
  }, 180_000);
});
