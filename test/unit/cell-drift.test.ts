/**
 * The cells that tools write differently from what was meant (exports.md §1, issue 34, kinds 5–7),
 * without a database: a month-first date told from a day-first one, the `\N` NULL marker, the
 * invisible characters an identifier sheds at its ends and those that reject it, the leading-zero
 * variants of an identifier, and the warnings' French sentences, which name lines, never a value.
 */
import { describe, expect, it } from "vitest";
import { isMonthFirstOnly, parseDay, parseParisDay } from "../../domain/dates.ts";
import { INGEST_WARNING_KINDS, MAX_WARNING_LINES, warningMessage } from "../../domain/ingest-warnings.ts";
import {
  hasForbiddenIdentifierCharacter,
  monthFirstRefusal,
  REJECTION_REASONS,
  trimIdentifier,
} from "../../domain/rejections.ts";
import { withoutNullMarkers } from "../../ingest/csv.ts";
import { zeroVariants } from "../../ingest/dossier-watch.ts";
import { fieldContext } from "../../ingest/fields.ts";
import { KIND_DEFS } from "../../ingest/kinds.ts";

describe("month-first dates (exports.md §1)", () => {
  it("tells a date impossible day-first but real month-first, dates and timestamps alike", () => {
    for (const s of [
      "06/13/2025",
      "12/31/2024",
      "02/29/2024",
      "06/13/2025 10:30",
      "06/13/2025 23:59:59",
      " 06/13/2025 ",
    ])
      expect(isMonthFirstOnly(s), s).toBe(true);
    // real day-first, impossible both ways, or not …/…/YYYY at all
    for (const s of [
      "13/06/2025",
      "06/07/2025",
      "31/12/2024",
      "02/31/2025",
      "06/31/2025",
      "13/13/2025",
      "02/29/2025",
      "2025-06-13",
      "6/13/2025",
      "06/13/2025 24:00",
      "",
    ])
      expect(isMonthFirstOnly(s), s).toBe(false);
    expect(parseDay("06/13/2025")).toBeNull();
    expect(parseParisDay("06/13/2025 10:30")).toBeNull();
  });

  it("gives the cell its own reason, which the readers turn into the file's refusal", () => {
    const fc = fieldContext("2025-08-01");
    const schema = KIND_DEFS.agenda.schema(fc, null);
    const r = schema.safeParse({
      finess: "340000017",
      usager_id: "u1",
      evenement_id: "e1",
      date_debut: "06/13/2025 10:30",
    });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain("date_mois_en_premier");
    const m = monthFirstRefusal(7, "date_debut");
    expect(m).toMatch(/^dates écrites mois en premier.*ligne 7, colonne date_debut.*rien n'a été chargé/);
    expect(REJECTION_REASONS.date_mois_en_premier).not.toMatch(/\d/);
  });
});

describe("the \\N NULL marker (MySQL OUTFILE, psql COPY TEXT)", () => {
  it("makes exactly `\\N` empty, in every column, and nothing else", () => {
    expect(withoutNullMarkers(["340000017", "\\N", "\\N", "a\\N", "\\n", " \\N", "\\NN", ""])).toEqual([
      "340000017",
      "",
      "",
      "a\\N",
      "\\n",
      " \\N",
      "\\NN",
      "",
    ]);
  });
});

describe("identifiers as written (exports.md §1)", () => {
  it("removes the invisible characters that tools add at either end, and nothing inside", () => {
    expect(trimIdentifier("000459\u200b")).toBe("000459");
    expect(trimIdentifier("\ufeff000459")).toBe("000459");
    expect(trimIdentifier("\u00a0 000459\u200b\u00a0")).toBe("000459");
    expect(trimIdentifier("\u202f000459\u3000")).toBe("000459");
    expect(trimIdentifier("  u 12  ")).toBe("u 12");
    expect(trimIdentifier("0004\u200b59")).toBe("0004\u200b59");
    expect(trimIdentifier("\x1f000460")).toBe("\x1f000460");
    expect(trimIdentifier("")).toBe("");
  });

  it("refuses any other control, format or direction character anywhere", () => {
    for (const s of [
      "\x1f000460",
      "000460\x1f",
      "0004\u200b59",
      "u\u202e12",
      "u\u2066x\u2069",
      "u\u200e1",
      "u\u00ad1",
      "u\t1",
      "u\r1",
      "u\x7f",
      "u\x85",
      "a\ufeffb",
    ])
      expect(hasForbiddenIdentifierCharacter(s), JSON.stringify(s)).toBe(true);
    for (const s of ["000459", "u 12", "Dupont-Éloïse_3", "é\u00a0x", "用户12"])
      expect(hasForbiddenIdentifierCharacter(s), s).toBe(false);
  });

  it("gives the same identifier for the same person however its ends were written", () => {
    const fc = fieldContext("2025-08-01");
    const schema = KIND_DEFS.agenda.schema(fc, null);
    const cell = (usager_id: string) =>
      schema.safeParse({ finess: "340000017", usager_id, evenement_id: "e1", date_debut: "2025-05-01" });
    for (const v of ["000459", "000459\u200b", "\ufeff000459", "\u00a0000459 "])
      expect(cell(v).data?.usager_id, JSON.stringify(v)).toBe("000459");
    const bad = cell("\x1f000460");
    expect(bad.success).toBe(false);
    const text = JSON.stringify(bad.error?.issues);
    expect(text).toContain("caractere_invisible_identifiant");
    expect(text).not.toContain("000460");
  });
});

describe("leading-zero variants of an identifier", () => {
  it("adds or removes up to 9 leading zeros, for identifiers of digits only", () => {
    expect(zeroVariants("457")).toEqual(Array.from({ length: 9 }, (_, k) => `${"0".repeat(k + 1)}457`));
    const v = zeroVariants("000459");
    expect(v).toContain("459");
    expect(v).toContain("0459");
    expect(v).toContain("000000000000459");
    expect(v).not.toContain("000459");
    expect(v).not.toContain("0000000000000459");
    expect(v).toHaveLength(12);
    expect(zeroVariants("0")).toContain("00");
    expect(zeroVariants("0")).not.toContain("");
    expect(zeroVariants("U00457")).toEqual([]);
    expect(zeroVariants("45 7")).toEqual([]);
  });
});

describe("the warnings' French sentences", () => {
  it("names the new kinds, their counts and lines, never a value", () => {
    expect(INGEST_WARNING_KINDS).toEqual(
      expect.arrayContaining(["sans_trace", "sans_dossier", "zeros_de_tete"]),
    );
    expect(warningMessage({ kind: "sans_dossier", count: 2, lines: [2, 3] })).toMatch(
      /^2 lignes dont l'usager n'a aucun dossier dans l'ESSMS \(colonne usager_id, lignes 2 et 3\)/,
    );
    expect(warningMessage({ kind: "sans_dossier", count: 1, lines: [9] })).toMatch(
      /^1 ligne dont l'usager n'a aucun dossier .*ligne 9\) : elle ne compte/,
    );
    expect(warningMessage({ kind: "zeros_de_tete", count: 2, lines: [2, 3] })).toMatch(
      /^2 lignes sans dossier ont un identifiant d'usager qui correspond à un dossier connu de l'ESSMS à des zéros de tête près \(colonne usager_id, lignes 2 et 3\)/,
    );
    const many = Array.from({ length: MAX_WARNING_LINES }, (_, i) => i + 2);
    expect(warningMessage({ kind: "sans_dossier", count: 250, lines: many })).toContain(
      "lignes 2, 3, 4, 5, 6, 7, 8, 9, 10, 11… (et 240 autres)",
    );
  });
});
