/** domain/solde.ts and domain/adjustment-effect.ts: the pure rules of issue 14. */
import { describe, expect, it } from "vitest";
import {
  boundCheckDates,
  checkAdjustmentBound,
  coversDay,
  periodsOverlap,
  statusAt,
} from "../../domain/adjustment-effect.ts";
import { isDomainError } from "../../domain/errors.ts";
import { plural } from "../../domain/french.ts";
import type { EssmsCounts } from "../../domain/report.ts";
import {
  caveatsLabel,
  checkSoldeDecision,
  daysLeftLabel,
  formatEur,
  soldeAmount,
} from "../../domain/solde.ts";

const counts = (fa: number, da: number): EssmsCounts => ({
  finess: "340000017",
  grappe_id: "T1",
  exempt_mss_dmp: false,
  fa_computed: fa,
  fa_declared: null,
  da,
  pp: 0,
  agenda: 0,
  mss: 0,
  dmp: 0,
  eprescription: 0,
  eparcours: 0,
  adj: { dossiers_actifs: 0, projet_personnalise: 0, agenda: 0, mss: 0, dmp: 0 },
});

function codeOf(f: () => void): string | null {
  try {
    f();
    return null;
  } catch (e) {
    return isDomainError(e) ? e.code : "autre";
  }
}

describe("days left and amounts, in French", () => {
  it("writes singular below 2 and plural from 2, and the past and today apart", () => {
    expect(daysLeftLabel(1, "2026-01-31")).toBe("1 jour avant la date cible (31/01/2026)");
    expect(daysLeftLabel(12, "2026-01-31")).toBe("12 jours avant la date cible (31/01/2026)");
    expect(daysLeftLabel(0, "2026-01-31")).toBe("date cible aujourd'hui (31/01/2026)");
    expect(daysLeftLabel(-1, "2026-01-31")).toBe("date cible dépassée depuis 1 jour (31/01/2026)");
    expect(daysLeftLabel(-3, "2026-01-31")).toBe("date cible dépassée depuis 3 jours (31/01/2026)");
    expect(daysLeftLabel(null, null)).toBeNull();
    expect(plural(0, "ESSMS bloquant", "ESSMS bloquants")).toBe("0 ESSMS bloquant");
    expect(plural(1200, "dossier", "dossiers")).toBe("1 200 dossiers");
  });

  it("says a solde is due when eligible, at risk otherwise, and neither without data", () => {
    expect(formatEur(135900)).toBe("135 900 €");
    expect(formatEur(1234.5)).toBe("1 234,50 €");
    expect(soldeAmount(135900, "eligible")).toEqual({
      solde_eur: 135900,
      status: "du",
      label: "Solde dû : 135 900 €",
    });
    expect(soldeAmount(135900, "non_eligible").status).toBe("a_risque");
    expect(soldeAmount(135900, "aucune_donnee").status).toBeNull();
  });
});

describe("adjustments bounded by their denominator (R-A1)", () => {
  it("covers D within its period, an empty end open", () => {
    expect(coversDay({ date_debut: "2025-04-01", date_fin: null }, "2025-04-01")).toBe(true);
    expect(coversDay({ date_debut: "2025-04-01", date_fin: "2025-06-30" }, "2025-06-30")).toBe(true);
    expect(coversDay({ date_debut: "2025-04-01", date_fin: "2025-06-30" }, "2025-07-01")).toBe(false);
    expect(
      periodsOverlap(
        { date_debut: "2025-04-01", date_fin: "2025-06-30" },
        { date_debut: "2025-06-30", date_fin: null },
      ),
    ).toBe(true);
    expect(
      periodsOverlap(
        { date_debut: "2025-04-01", date_fin: "2025-06-30" },
        { date_debut: "2025-07-01", date_fin: null },
      ),
    ).toBe(false);
    expect(
      periodsOverlap(
        { date_debut: "2025-04-01", date_fin: null },
        { date_debut: "2020-01-01", date_fin: "2025-04-01" },
      ),
    ).toBe(true);
  });

  it("accepts up to the persons missing from the numerator (FA or DA by indicator), the file active for MSS", () => {
    const a = { finess: "340000017", date_debut: "2025-04-01", date_fin: null } as const;
    const at = (c: EssmsCounts | undefined) => [{ date: "2025-04-01", counts: c }];
    // FA 7, DA 5, DMP numerator 3: at most 4 persons can be adjusted out of the DMP.
    const c = { ...counts(7, 5), dmp: 3, agenda: 2, mss: 30 };
    expect(codeOf(() => checkAdjustmentBound({ ...a, indicateur: "dmp", nombre: 4 }, at(c), []))).toBeNull();
    expect(codeOf(() => checkAdjustmentBound({ ...a, indicateur: "dmp", nombre: 5 }, at(c), []))).toBe(
      "validation",
    );
    // Agenda counts on DA: 5 − 2.
    expect(
      codeOf(() => checkAdjustmentBound({ ...a, indicateur: "agenda", nombre: 3 }, at(c), [])),
    ).toBeNull();
    expect(codeOf(() => checkAdjustmentBound({ ...a, indicateur: "agenda", nombre: 4 }, at(c), []))).toBe(
      "validation",
    );
    // MSS counts messages: the file active bounds it.
    expect(codeOf(() => checkAdjustmentBound({ ...a, indicateur: "mss", nombre: 7 }, at(c), []))).toBeNull();
    expect(codeOf(() => checkAdjustmentBound({ ...a, indicateur: "mss", nombre: 8 }, at(c), []))).toBe(
      "validation",
    );
    expect(
      codeOf(() => checkAdjustmentBound({ ...a, indicateur: "dmp", nombre: 1 }, at(undefined), [])),
    ).toBe("validation");
  });

  it("adds the others in force on each day checked, not every overlapping one", () => {
    const a = {
      finess: "340000017",
      indicateur: "dmp" as const,
      nombre: 1,
      date_debut: "2025-10-01",
      date_fin: "2025-12-31",
    };
    const c = { ...counts(40, 40), dmp: 5 }; // 35 persons missing
    const october = { nombre: 30, date_debut: "2025-10-01", date_fin: "2025-10-31" };
    const november = { nombre: 2, date_debut: "2025-11-01", date_fin: "2025-11-30" };
    const december = { nombre: 34, date_debut: "2025-12-01", date_fin: null };
    const dates = boundCheckDates(a, [october, november, december], ["2025-12-15", "2026-03-01"]);
    expect(dates).toEqual(["2025-10-01", "2025-11-01", "2025-12-01", "2025-12-15"]);
    const checks = dates.map((date) => ({ date, counts: c }));
    // 30, 2 and 34 are never in force together: 1 more fits every day (35 at most).
    expect(codeOf(() => checkAdjustmentBound(a, checks, [october, november, december]))).toBeNull();
    // 2 more would make 36 in December.
    expect(
      codeOf(() => checkAdjustmentBound({ ...a, nombre: 2 }, checks, [october, november, december])),
    ).toBe("validation");
  });

  it("checks the bound at the dates measured that the period covers, not only at its start", () => {
    const a = {
      finess: "340000017",
      indicateur: "projet_personnalise" as const,
      nombre: 10,
      date_debut: "2026-05-01",
      date_fin: null,
    };
    expect(boundCheckDates(a, [], ["2026-12-01", "2027-01-01"])).toEqual([
      "2026-05-01",
      "2026-12-01",
      "2027-01-01",
    ]);
    const early = { ...counts(40, 35), pp: 20 }; // 15 missing in May
    const late = { ...counts(30, 21), pp: 14 }; // 7 missing at the target date
    expect(
      codeOf(() =>
        checkAdjustmentBound(
          a,
          [
            { date: "2026-05-01", counts: early },
            { date: "2027-01-01", counts: late },
          ],
          [],
        ),
      ),
    ).toBe("validation");
    expect(boundCheckDates({ ...a, date_fin: "2026-06-30" }, [], ["2026-12-01"])).toEqual(["2026-05-01"]);
  });
});

describe("the solde decision (issue 14 §3)", () => {
  const none = { replaces_decision_id: null, replacement_reason: null };
  const inForce = { decision_id: 4, decided_at: "2025-07-02T10:00:00Z" };
  it("needs a motivated comment to depart from the computed verdict", () => {
    expect(codeOf(() => checkSoldeDecision({ eligible: true, comment: null, ...none }, false, null))).toBe(
      "validation",
    );
    expect(codeOf(() => checkSoldeDecision({ eligible: true, comment: "court", ...none }, false, null))).toBe(
      "validation",
    );
    expect(
      codeOf(() =>
        checkSoldeDecision({ eligible: true, comment: "dérogation motivée par l'ARS", ...none }, false, null),
      ),
    ).toBeNull();
    expect(
      codeOf(() => checkSoldeDecision({ eligible: false, comment: null, ...none }, false, null)),
    ).toBeNull();
  });

  it("asks a decision taken before the target date, or on incomplete data, for its motive (issue 30 §3)", () => {
    const early = { before_target: true, data_incomplete: false };
    const fragile = { before_target: false, data_incomplete: true };
    for (const caveats of [early, fragile, { before_target: true, data_incomplete: true }]) {
      // Even the computed verdict: the decision is confirmed with a motive of 10 characters at least.
      expect(
        codeOf(() => checkSoldeDecision({ eligible: false, comment: null, ...none }, false, null, caveats)),
      ).toBe("validation");
      expect(
        codeOf(() =>
          checkSoldeDecision({ eligible: false, comment: "court", ...none }, false, null, caveats),
        ),
      ).toBe("validation");
      expect(
        codeOf(() =>
          checkSoldeDecision(
            { eligible: false, comment: "décision anticipée, accord du comité", ...none },
            false,
            null,
            caveats,
          ),
        ),
      ).toBeNull();
    }
    expect(caveatsLabel(early, "2027-01-01")).toBe("Décision prise avant la date cible (01/01/2027)");
    expect(caveatsLabel(fragile, null)).toBe(
      "Décision sur des données incomplètes (exports manquants dans la fenêtre)",
    );
    expect(caveatsLabel({ before_target: false, data_incomplete: false }, null)).toBeNull();
  });

  it("keeps one decision in force: another needs the explicit replacement of that one, with a reason", () => {
    expect(
      codeOf(() => checkSoldeDecision({ eligible: false, comment: null, ...none }, false, inForce)),
    ).toBe("conflict");
    const replace = { eligible: false, comment: null, replaces_decision_id: 4, replacement_reason: null };
    expect(codeOf(() => checkSoldeDecision(replace, false, inForce))).toBe("validation");
    expect(
      codeOf(() =>
        checkSoldeDecision({ ...replace, replacement_reason: "revue contradictoire" }, false, inForce),
      ),
    ).toBeNull();
    expect(
      codeOf(() =>
        checkSoldeDecision(
          { ...replace, replaces_decision_id: 3, replacement_reason: "revue contradictoire" },
          false,
          inForce,
        ),
      ),
    ).toBe("conflict");
    expect(
      codeOf(() =>
        checkSoldeDecision({ ...replace, replacement_reason: "revue contradictoire" }, false, null),
      ),
    ).toBe("conflict");
  });
});

describe("adjustments as a frozen report saw them", () => {
  it("takes the last decision before the freeze, never a later one", () => {
    const a = {
      statut: "APPROUVE",
      source: "api",
      created_at: "2025-07-02T10:00:00Z",
      decisions: [{ decision: "APPROUVE", decided_at: "2025-07-03T09:00:00Z" }],
    };
    expect(statusAt(a, "2025-07-02T09:59:59Z")).toBeNull();
    expect(statusAt(a, "2025-07-02T12:00:00Z")).toBe("PROPOSE");
    expect(statusAt(a, "2025-07-03T09:00:00Z")).toBe("APPROUVE");
    const revoked = {
      ...a,
      statut: "REVOQUE",
      decisions: [...a.decisions, { decision: "REVOQUE", decided_at: "2025-08-01T00:00:00Z" }],
    };
    expect(statusAt(revoked, "2025-07-10T00:00:00Z")).toBe("APPROUVE");
    expect(statusAt({ ...a, source: "import", decisions: [] }, "2025-07-05T00:00:00Z")).toBe("APPROUVE");
  });
});
