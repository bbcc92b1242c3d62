/** `report --freeze` and `report --snapshot` as child processes on the embedded database. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli-run.ts";
import { goldenRoot, SECRET, tempDir } from "../support/helpers.ts";

const mini = join(goldenRoot(), "mini");
const D = "2025-07-01";

describe("report --freeze and --snapshot", () => {
  it("prints back a frozen snapshot identically, after more imports", async () => {
    const env = { DATA_DIR: tempDir("cibles-snap-"), PSEUDONYMISATION_SECRET: SECRET };
    expect((await runCli(["referential", "import", join(mini, "referentiel.csv")], env)).code).toBe(0);
    expect((await runCli(["ingest", join(mini, "exports", "dossiers_2025-07.csv")], env)).code).toBe(0);
    const frozen = await runCli(["report", "--date", D, "--freeze", "--json"], env);
    expect(frozen.code).toBe(0);
    expect(frozen.stderr).toMatch(/Figé n° 1 enregistré/);
    const doc = JSON.parse(frozen.stdout) as { snapshot_id: number; report: unknown };
    expect(doc.snapshot_id).toBe(1);
    await runCli(["ingest", join(mini, "exports")], env);
    const back = await runCli(["report", "--snapshot", "1", "--json"], env);
    expect(back.code).toBe(0);
    expect(back.stdout).toBe(frozen.stdout);
    const unknown = await runCli(["report", "--snapshot", "7"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/figé inconnu : 7/);
    // Six command-line processes, each starting Node, tsx and PGlite (2–5 s alone): bounded
    // work whose duration follows the machine's load, not a timing the test depends on.
  }, 240_000);
});
