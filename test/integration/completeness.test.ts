/** What is missing (issue 16 §3): the grid of exports received, pure and over the API on both backends. */
import { describe, expect, it as plainIt } from "vitest";
import { createApp } from "../../api/app.ts";
import { completeness, gridMonths } from "../../domain/completeness.ts";
import { populate, sessionCookie } from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { SECRET } from "../support/helpers.ts";

describe("the completeness grid", () => {
  plainIt(
    "covers a month when a loaded export's dates meet it; flags stale kinds; lists the window's gaps",
    () => {
      expect(gridMonths("2025-07-01")).toEqual([
        "2025-02-01",
        "2025-03-01",
        "2025-04-01",
        "2025-05-01",
        "2025-06-01",
        "2025-07-01",
      ]);
      const spans = [
        {
          finess: "A",
          kind: "agenda",
          date_min: "2025-04-03",
          date_max: "2025-05-02",
          finished_at: "2025-06-01T08:00:00Z",
        },
        {
          finess: "A",
          kind: "dossiers",
          date_min: "2020-01-01",
          date_max: "2025-06-30",
          finished_at: "2025-05-01T08:00:00Z",
        },
      ];
      const g = completeness(
        "2025-07-01",
        [
          { finess: "A", exempt_mss_dmp: false },
          { finess: "B", exempt_mss_dmp: true },
        ],
        spans,
        "2025-07-01",
        45,
      );
      const a = g.essms.find((e) => e.finess === "A");
      expect(a?.kinds.find((k) => k.kind === "agenda")).toMatchObject({
        months: [false, false, true, true, false, false],
        stale: false,
        last_import: "2025-06-01T08:00:00Z",
      });
      expect(a?.kinds.find((k) => k.kind === "dossiers")).toMatchObject({ stale: true });
      expect(g.essms.find((e) => e.finess === "B")?.kinds.find((k) => k.kind === "mss")?.optional).toBe(true);
      // W of 2025-07-01 is April–June: agenda misses June; B needs no MSS nor DMP.
      expect(g.gaps_in_window).toContainEqual({ finess: "A", kind: "agenda", months: ["2025-06-01"] });
      expect(g.gaps_in_window.some((x) => x.finess === "B" && (x.kind === "mss" || x.kind === "dmp"))).toBe(
        false,
      );
      expect(g.gaps_in_window.some((x) => x.finess === "A" && x.kind === "dossiers")).toBe(false);
    },
  );
});

describeOnBackends("what is missing, over the API", { seed: populate }, () => {
  it("says on the grappe and the ESSMS which exports are missing, and that the verdict rests on them", async ({
    db,
  }) => {
    const app = createApp({ db, secret: SECRET, log: () => {} });
    const cookie = await sessionCookie(app, "chef_projet");
    const g = (await (
      await app.request("/api/grappes/T1?date=2025-07-01", { headers: { cookie } })
    ).json()) as {
      synthesis: { data_warning: string | null };
      completeness: {
        months: string[];
        essms: { finess: string; kinds: { kind: string; months: boolean[] }[] }[];
        gaps_in_window: { finess: string; kind: string; months: string[] }[];
      };
    };
    expect(g.completeness.months).toHaveLength(6);
    // SAA Garonne has no export at all: every kind misses every month of W.
    const saa = g.completeness.gaps_in_window.filter((x) => x.finess === "310000039");
    expect(saa.map((x) => x.kind).sort()).toEqual([
      "agenda",
      "dmp",
      "dossiers",
      "mss",
      "projets_personnalises",
    ]);
    expect(saa.every((x) => x.months.length === 3)).toBe(true);
    expect(g.synthesis.data_warning).toMatch(/données manquantes/);
    // The EHPAD's exports cover some months; the months they miss in W are listed, no others.
    const ehpad = g.completeness.essms.find((x) => x.finess === "340000017");
    for (const k of ehpad?.kinds ?? []) {
      expect(k.months.some(Boolean), k.kind).toBe(true);
      const listed = g.completeness.gaps_in_window.find((x) => x.finess === "340000017" && x.kind === k.kind);
      const missingInW = g.completeness.months.filter((_m, n) => n >= 2 && n <= 4 && !k.months[n]);
      expect(listed?.months ?? [], k.kind).toEqual(missingInW);
    }
    const e = (await (
      await app.request("/api/essms/340000017?date=2025-07-01", { headers: { cookie } })
    ).json()) as {
      completeness: { essms: { finess: string }[] };
    };
    expect(e.completeness.essms.map((x) => x.finess)).toEqual(["340000017"]);
  });
});
