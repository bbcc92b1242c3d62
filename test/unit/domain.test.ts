import { describe, expect, it } from "vitest";
import {
  addMonths,
  measurementWindow,
  monthStarts,
  parisOffsetMinutes,
  parseDay,
  parseParisDay,
  targetDate,
} from "../../domain/dates.ts";
import { checkFiness, luhnValid } from "../../domain/finess.ts";
import { evaluateIndicator, gapInPersons, meetsTarget, round4 } from "../../domain/indicators.ts";
import { essmsSubsidyEur, grappeSubsidy } from "../../domain/subsidy.ts";
import {
  AGENDA_STATUT,
  AMENAGEMENT_STATUT,
  DMP_STATUT,
  foldToken,
  MSS_SENS,
  MSS_STATUT,
  PP_STATUT,
  resolver,
  type Vocabulary,
} from "../../domain/vocabulary.ts";

describe("FINESS", () => {
  it("accepts 9 digits passing Luhn and Corse 2A/2B + 7 digits", () => {
    expect(checkFiness("340000017")).toEqual({ ok: true, finess: "340000017" });
    expect(checkFiness(" 2a0000017 ")).toEqual({ ok: true, finess: "2A0000017" });
    expect(checkFiness("2B1234567").ok).toBe(true);
  });
  it("refuses a wrong check digit, a wrong length and letters, in French", () => {
    const luhn = checkFiness("340000018");
    expect(luhn.ok).toBe(false);
    expect(!luhn.ok && luhn.message).toMatch(/clé de contrôle/);
    expect(checkFiness("34000001").ok).toBe(false);
    expect(checkFiness("2C0000017").ok).toBe(false);
    const empty = checkFiness("");
    expect(!empty.ok && empty.message).toBe("valeur obligatoire manquante (FINESS)");
  });
  it("implements Luhn over the 9 digits", () => {
    expect(luhnValid("310000039")).toBe(true);
    expect(luhnValid("999999999")).toBe(false);
  });
});

describe("R-T1 window", () => {
  it("is the 3 months before D, half-open", () => {
    expect(measurementWindow("2025-07-01")).toEqual({ start: "2025-04-01", end: "2025-07-01" });
  });
  it("clamps to the month's last day (31st, 29 February, 30th)", () => {
    expect(measurementWindow("2025-05-31").start).toBe("2025-02-28");
    expect(measurementWindow("2024-05-31").start).toBe("2024-02-29");
    expect(measurementWindow("2025-12-31").start).toBe("2025-09-30");
    expect(measurementWindow("2025-03-31").start).toBe("2024-12-31");
    expect(measurementWindow("2024-02-29").start).toBe("2023-11-29");
  });
  it("R-T3: target date is VSR + 3 months", () => {
    expect(targetDate("2025-04-15")).toBe("2025-07-15");
    expect(targetDate("2024-11-30")).toBe("2025-02-28");
  });
  it("adds months across years", () => {
    expect(addMonths("2025-01-31", -2)).toBe("2024-11-30");
    expect(addMonths("2025-11-15", 3)).toBe("2026-02-15");
  });
  it("lists month starts", () => {
    expect(monthStarts("2025-01-15", "2025-04-01")).toEqual(["2025-02-01", "2025-03-01", "2025-04-01"]);
    expect(monthStarts("2024-12-01", "2025-01-31")).toEqual(["2024-12-01", "2025-01-01"]);
  });
});

describe("R-T2 Europe/Paris day", () => {
  it("converts offsets and Z, keeps local timestamps and bare dates", () => {
    expect(parseParisDay("2025-03-31T22:30:00Z")).toBe("2025-04-01");
    expect(parseParisDay("2025-06-30T23:30:00+02:00")).toBe("2025-06-30");
    expect(parseParisDay("2025-06-30T22:30:00Z")).toBe("2025-07-01");
    expect(parseParisDay("2025-06-30T21:59:59Z")).toBe("2025-06-30");
    expect(parseParisDay("2025-07-01T00:10:00+02:00")).toBe("2025-07-01");
    expect(parseParisDay("2025-01-15T23:30")).toBe("2025-01-15");
    expect(parseParisDay("15/01/2025 23:30")).toBe("2025-01-15");
    expect(parseParisDay("15/01/2025")).toBe("2025-01-15");
    expect(parseParisDay("2025-01-15T23:30:00.123-05:00")).toBe("2025-01-16");
    // exports.md §1: every offset form, any number of fraction digits, PostgreSQL's COPY output.
    expect(parseParisDay("2025-06-30 23:30:00+02")).toBe("2025-06-30");
    expect(parseParisDay("2025-06-30 22:30:00+00")).toBe("2025-07-01");
    expect(parseParisDay("2025-06-30T20:30:00-0330")).toBe("2025-07-01");
    expect(parseParisDay("2025-06-30T21:59:59.123456Z")).toBe("2025-06-30");
    // .NET writes 7 fraction digits, FHIR allows 9: truncated (never rounded into the next day).
    expect(parseParisDay("2025-06-30T21:59:59.1234567Z")).toBe("2025-06-30");
    expect(parseParisDay("2025-06-30T21:59:59.999999999Z")).toBe("2025-06-30");
    expect(parseParisDay("2025-06-30T21:59:59.Z")).toBeNull();
    expect(parseParisDay("2025-06-30T21:59+2")).toBeNull();
    expect(parseParisDay("30/06/2025 23:59:59")).toBe("2025-06-30");
  });
  it("handles DST change days (last Sunday of March and October)", () => {
    // 30 March 2025: clocks go forward at 01:00 UTC
    expect(parseParisDay("2025-03-29T23:30:00Z")).toBe("2025-03-30"); // +1 before the change
    expect(parseParisDay("2025-03-30T22:30:00Z")).toBe("2025-03-31"); // +2 after
    expect(parseParisDay("2025-03-30T21:59:00Z")).toBe("2025-03-30");
    // 26 October 2025: clocks go back at 01:00 UTC
    expect(parseParisDay("2025-10-25T22:30:00Z")).toBe("2025-10-26"); // +2
    expect(parseParisDay("2025-10-26T22:30:00Z")).toBe("2025-10-26"); // +1: 23:30
    expect(parseParisDay("2025-10-26T23:00:00Z")).toBe("2025-10-27");
  });
  it("agrees with Intl's Europe/Paris offset every 3 hours from 1990 to 2040", () => {
    const fmt = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", timeZoneName: "shortOffset" });
    const mismatches: string[] = [];
    for (let t = Date.UTC(1990, 0, 1); t < Date.UTC(2040, 0, 1); t += 3 * 3600_000 + 60_000 * 17) {
      const name = fmt.formatToParts(t).find((p) => p.type === "timeZoneName")?.value ?? "";
      const expected = name === "GMT+2" ? 120 : 60;
      if (parisOffsetMinutes(t) !== expected) mismatches.push(new Date(t).toISOString());
    }
    expect(mismatches).toEqual([]);
  });
  it("rejects impossible days and times", () => {
    expect(parseDay("31/02/2025")).toBeNull();
    expect(parseDay("2025-02-29")).toBeNull();
    expect(parseDay("2024-02-29")).toBe("2024-02-29");
    expect(parseParisDay("2025-01-01T24:00")).toBeNull();
    expect(parseParisDay("01-01-2025")).toBeNull();
  });
});

describe("status vocabularies (exports.md §4)", () => {
  const table: [Vocabulary<string>, Record<string, string[]>][] = [
    [
      PP_STATUT,
      {
        ENPREPARATION: ["en préparation", "preparation", "draft", "brouillon"],
        ENCOURS: ["en cours", "actif", "active", "valide", "validé"],
        ENPAUSE: ["en pause", "pause", "suspendu"],
        TERMINE: ["terminé", "clos", "clôturé", "archivé", "fermé"],
      },
    ],
    [
      AGENDA_STATUT,
      {
        PLANIFIE: ["planifié", "planned", "prévu"],
        VALIDE: ["validé", "triaged", "confirmé"],
        TERMINE: ["terminé", "réalisé", "fait", "finished", "effectué"],
        ANNULE: ["annulé", "cancelled", "canceled"],
      },
    ],
    [
      MSS_SENS,
      { ENVOYE: ["envoyé", "sent", "sortant", "émis", "out"], RECU: ["reçu", "received", "entrant", "in"] },
    ],
    [
      MSS_STATUT,
      {
        OK: ["succès", "success", "délivré", "delivered", "envoyé"],
        ECHEC: ["échec", "erreur", "error", "failed", "rejeté"],
      },
    ],
    [
      DMP_STATUT,
      {
        DEPOSE: ["déposé", "succès", "success", "ok", "alimenté"],
        ERREUR: ["erreur", "échec", "error", "failed", "rejeté"],
        SUPPRIME: ["supprimé", "deleted", "retiré"],
      },
    ],
  ];
  for (const [vocab, synonyms] of table) {
    for (const [canonical, spellings] of Object.entries(synonyms)) {
      it(`${vocab.field} ${canonical}: ${spellings.join(", ")}`, () => {
        const resolve = resolver(vocab);
        for (const s of [canonical, ...spellings, ...spellings.map((x) => x.toUpperCase())]) {
          expect(resolve(s), s).toEqual({ ok: true, value: canonical });
        }
      });
    }
  }
  it("folds case, accents, spaces, _ and -", () => {
    expect(foldToken("En_pré-paration ")).toBe("ENPREPARATION");
  });
  it("applies defaults and refuses unknown values with the accepted list", () => {
    expect(resolver(AGENDA_STATUT)("")).toEqual({ ok: true, value: "PLANIFIE" });
    expect(resolver(MSS_STATUT)("")).toEqual({ ok: true, value: "OK" });
    expect(resolver(DMP_STATUT)(" ")).toEqual({ ok: true, value: "DEPOSE" });
    const bad = resolver(PP_STATUT)("INCONNU");
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.message).toMatch(/^valeur non reconnue \(.*valeurs acceptées ENPREPARATION/);
    expect(!bad.ok && bad.message).not.toMatch(/INCONNU/);
    expect(resolver(PP_STATUT)("").ok).toBe(false);
    expect(resolver(AMENAGEMENT_STATUT)("approuvé")).toEqual({ ok: true, value: "APPROUVE" });
  });
  it("takes extra synonyms from a vendor profile", () => {
    expect(resolver(PP_STATUT, { TERMINE: ["done"] })("Done")).toEqual({ ok: true, value: "TERMINE" });
  });
});

describe("R-I1 met, R-G3 gap", () => {
  it("compares on exact integers: 90.0 % is met, 89.99 % is not", () => {
    expect(meetsTarget(9, 10, 90)).toBe(true);
    expect(meetsTarget(8999, 10000, 90)).toBe(false);
    expect(meetsTarget(7, 10, 70)).toBe(true);
    expect(meetsTarget(0, 0, 70)).toBe(false);
  });
  it("gap is ceil(target × denominator) − numerator", () => {
    expect(gapInPersons(5, 7, 90)).toBe(2);
    expect(gapInPersons(0, 10, 70)).toBe(7);
    expect(gapInPersons(3, 5, 70)).toBe(1);
    expect(gapInPersons(0, 0, 90)).toBeNull();
    expect(gapInPersons(100, 100, 90)).toBe(0);
  });
  it("denominator after adjustment is never below 0, rate null at 0", () => {
    const r = evaluateIndicator("mss", 3, 2, 5, false);
    expect(r).toMatchObject({ denominator: 0, adjustment: 5, rate: null, met: false, gap: null });
    const ok = evaluateIndicator("mss", 3, 7, 2, false);
    expect(ok).toMatchObject({ denominator: 5, rate: 0.6, met: false, gap: 1, mandatory: true });
    expect(evaluateIndicator("dmp", 0, 10, 0, true).mandatory).toBe(false);
    expect(evaluateIndicator("agenda", 0, 10, 0, true).mandatory).toBe(true);
  });
  it("rounds rates to 4 decimals", () => {
    expect(round4(5 / 7)).toBe(0.7143);
    expect(round4(0.80715)).toBe(0.8072);
  });
});

describe("R-G4 subsidy", () => {
  it("ranks below 50 get full amounts, from 50 reduced; SAAD prorata and specific funding", () => {
    expect(
      essmsSubsidyEur({
        rank: 1,
        typeProjet: "acquisition",
        ratioHeuresEligibles: 1,
        financementSpecifiqueEur: 0,
      }),
    ).toBe(21_000);
    expect(
      essmsSubsidyEur({
        rank: 49,
        typeProjet: "mise_a_niveau",
        ratioHeuresEligibles: 1,
        financementSpecifiqueEur: 0,
      }),
    ).toBe(5_000);
    expect(
      essmsSubsidyEur({
        rank: 50,
        typeProjet: "acquisition",
        ratioHeuresEligibles: 1,
        financementSpecifiqueEur: 0,
      }),
    ).toBe(5_000);
    expect(
      essmsSubsidyEur({
        rank: 50,
        typeProjet: "mise_a_niveau",
        ratioHeuresEligibles: 1,
        financementSpecifiqueEur: 0,
      }),
    ).toBe(2_000);
    expect(
      grappeSubsidy([
        { rank: 1, typeProjet: "acquisition", ratioHeuresEligibles: 1, financementSpecifiqueEur: 0 },
        { rank: 2, typeProjet: "mise_a_niveau", ratioHeuresEligibles: 1, financementSpecifiqueEur: 0 },
        { rank: 3, typeProjet: "acquisition", ratioHeuresEligibles: 0.5, financementSpecifiqueEur: 2000 },
      ]),
    ).toEqual({ total_eur: 38_500, solde_eur: 19_250 });
  });
});
