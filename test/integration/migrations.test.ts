/**
 * Migrations are frozen once landed (ADR 0010): each one's sha256 is held here, and a new one
 * must be added with its own. The functions that carry rules live in sql/functions and are
 * applied again whenever their text changes, on both backends.
 */
import { describe, expect } from "vitest";
import { functionFiles, migrate, migrationFiles, sqlFile } from "../../db/migrate.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";

/** sha256 of every landed migration. Never edit one of these files: write a new migration. */
const LANDED: Record<string, string> = {
  "0001_init.sql": "f4e50c5a2ed3a97bf876ffb4667b2ec7f6c7ea296d45b558bf53584ce9371564",
  // 0002 was edited after it landed (d456ec9): ADR 0010 records why it must never happen again.
  "0002_usager_month.sql": "c0ecc09c063fec880ba52fe34c0c0ece11f0155bcf1f81500719e30258b2fe3a",
  "0003_drop_fact_window_indexes.sql": "2b1bc9d3e992fadc8ecc358023783b37815d6e082f7eb41ce9a6a4e83fde931a",
  "0004_lock_finess.sql": "3fda2cc215cd8e826970e0e3f70195da2c09757b317065be02b64a2ea9a45c63",
  "0005_usager_month_refresh.sql": "a41f64098a11678521f6b2e66af121885027a956d82dc075361833ebcb105bed",
  "0006_security.sql": "b7a45311e386d71453e5bb0be2c8d0506222024f054a95785b31c510ba8d1e03",
  "0007_decisions.sql": "4050d35ec003efa6cae8ad8bff08d6689ac9b606d9616f6ce62e767427eb5ce5",
  "0008_action_worklist.sql": "5a58625b014205f9bf63e3f126c0a7853299f40fafbee471e52186a1910bf149",
  "0009_data_version.sql": "88ff6b9e1f20304ede178ed6809c39b76bd49f3581227dd3a1f9e9c9eb6b1c9e",
  "0010_data_version_imports.sql": "a619bd3fa86ce3ed76e921bfb8cf748b4a3e4b8cacfea0252f58584a08470e40",
  "0011_one_essms_reads.sql": "40ea6296915191e880260a2f77ca2633a24e11e900a1e0f4d894507f564a1680",
  "0012_data_version_import_rows.sql": "e42b66c0edf18a243bdcf0580c575b9b7d909537dd8341ed3943ed30d6affe38",
  "0013_data_version_essms_page.sql": "cd03e4d1a8798f39bceb9f2ffd593a4d618123b97d1c3c7668431b82503053ee",
  "0014_data_version_grappe.sql": "237b4aacd2abb3334d8a8442d30b8d2f7751b2e063fdac9d2524234502065f78",
  "0015_piece_original.sql": "ee9f50c18dec314d54332ededa1e42e45f82cb141fa3a1aba339cf2d38e57d1d",
  "0016_token_expiry.sql": "42fba7c46aff4b886a609b271a8365d88cbd7069ea622e0fd3c0b5d86a51b916",
  "0017_desk.sql": "649a87fe53e3a5ecef285cae2331301bfa943394b0979bf0ff5d392a8e48aae8",
  "0018_notifications.sql": "e55f81694154feeb0a0ba6cf5c6684aa42a3620be4fca9c1736ad9cca95fa361",
  "0019_privacy_keys.sql": "6604273d3e4e64d68689bc235d2109aeea9e77ccb81e5b241fa1ca999532f665",
  "0020_access_journal.sql": "f838c80a9648d29972eb5ff2addfeb26c63795e587d0de5c9964e5513c22f856",
  "0021_accounts.sql": "6f35eb8ced7575f0280d947776851e10bdd9cd293c16e8d84c21d300e4044144",
  "0022_calendar.sql": "56b305d7463412a256768b491cedd4f33ba6f395f5adf4cf55848fd4ffc0f765",
  "0023_mss_destinataire_dropped.sql": "49952196b3fc665d937989b38d891e883fdea611021a8682deebedbbf733e86e",
  "0024_usager_pseudonym_hash.sql": "f62b7f030aba1fc61135a58f5567e5e4daff2426281e24ce0d96adc33631ac4a",
};

describe("migrations", () => {
  it("are frozen: every file's sha256 is the one it landed with, and every file is recorded", () => {
    const actual = Object.fromEntries(migrationFiles().map((f) => [f, sqlFile("migrations", f).sha256]));
    expect(actual).toEqual(LANDED);
  });
});

describeOnBackends("rule functions", {}, () => {
  it("are recorded with their sha256 and applied again only when their text changes", async ({ db }) => {
    const recorded = await db.query<{ file: string; sha256: string }>(
      "select file, sha256 from schema_function order by file",
    );
    expect(recorded).toEqual(
      functionFiles().map((file) => ({ file, sha256: sqlFile("functions", file).sha256 })),
    );
    expect(await migrate(db)).toEqual({ migrations: [], functions: [] });
    // A function replaced behind our back (or an older text recorded) is put back on the next run.
    await db.query(
      "create or replace function usager_month_replace(p_finess text[], p_cols text[], p_in_scope text) returns void language sql as 'select'",
    );
    await db.query("update schema_function set sha256 = 'ancien' where file = 'usager_month.sql'");
    expect(await migrate(db)).toEqual({ migrations: [], functions: ["usager_month.sql"] });
    const [fn] = await db.query<{ body: string }>(
      "select prosrc as body from pg_proc where proname = 'usager_month_replace'",
    );
    expect(fn?.body).toContain("activity_fresh");
  });
});
