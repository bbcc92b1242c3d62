/** domain/solde.ts and domain/adjustment-effect.ts: the pure rules of issue 14. */
import { describe, expect, it } from "vitest";
import { checkAdjustmentBound, coversDay, periodsOverlap } from "../domain/adjustment-effect.ts";
import { isDomainError } from "../domain/errors.ts";
import type { EssmsCounts } from "../domain/report.ts";
import { checkSoldeDecision, daysLeftLabel, formatEur, plural, soldeAmount } from "../domain/solde.ts";

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

  it("accepts up to the denominator before adjustment (FA or DA by indicator), others included", () => {
    const a = { finess: "340000017", date_debut: "2025-04-01", date_fin: null } as const;
    expect(
      codeOf(() => checkAdjustmentBound({ ...a, indicateur: "dmp", nombre: 7 }, counts(7, 5), 0)),
    ).toBeNull();
    expect(codeOf(() => checkAdjustmentBound({ ...a, indicateur: "dmp", nombre: 8 }, counts(7, 5), 0))).toBe(
      "validation",
    );
    expect(
      codeOf(() => checkAdjustmentBound({ ...a, indicateur: "agenda", nombre: 6 }, counts(7, 5), 0)),
    ).toBe("validation");
    expect(codeOf(() => checkAdjustmentBound({ ...a, indicateur: "dmp", nombre: 3 }, counts(7, 5), 5))).toBe(
      "validation",
    );
    expect(codeOf(() => checkAdjustmentBound({ ...a, indicateur: "dmp", nombre: 1 }, undefined, 0))).toBe(
      "validation",
    );
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
