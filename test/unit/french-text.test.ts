/** The deny-list that the end-to-end tests apply to every page's text finds what it must, and only that. */
import { describe, expect, it } from "vitest";
import { findForbidden, RAW_CODES } from "../support/french-text.ts";

const rules = (text: string, regions: string[] = []) =>
  findForbidden(text, regions).map((f) => `${f.rule}: ${f.found}`);

describe("forbidden text on the dashboard", () => {
  it("finds a library's English message, English dates and values a developer left", () => {
    expect(rules("Impossible d'afficher cette page TypeError: Failed to fetch")).toEqual([
      "mot anglais: Failed",
      "mot anglais: fetch",
    ]);
    expect(rules("Taux : NaN % ; responsable : undefined ; échéance : null")).toEqual([
      "mot anglais: NaN",
      "mot anglais: undefined",
      "mot anglais: null",
    ]);
    expect(rules("Jan 2025 Apr Jul Oct · Mon 3")).toEqual([
      "mot anglais: Jan",
      "mot anglais: Apr",
      "mot anglais: Jul",
      "mot anglais: Oct",
      "mot anglais: Mon",
    ]);
    expect(rules("éligible : true")).toEqual(["mot anglais: true"]);
    expect(rules("comment : 10 caractères au moins")).toEqual(["nom de champ brut: comment :"]);
  });

  it("finds a raw code shown without its label, a region code alone, a category number", () => {
    expect(rules("Type projets_personnalises, statut PROPOSE, rôle chef_projet")).toEqual([
      "code brut: projets_personnalises",
      "code brut: PROPOSE",
      "code brut: chef_projet",
    ]);
    expect(rules("Export mss chargé (loaded)")).toEqual(["code brut: mss", "code brut: loaded"]);
    expect(rules("Grappe démo (DEMO-OCC-01, OCC)", ["OCC"])).toEqual(["code de région seul: OCC"]);
    expect(rules("EHPAD Les Oliviers 340000017, catégorie 500")).toEqual([
      "catégorie sans libellé: catégorie 500",
    ]);
    expect(RAW_CODES).toContain("dossiers_actifs");
    expect(RAW_CODES).not.toContain("agenda");
  });

  it("finds a plural after 1, and leaves 11, 21, 1 000 and the invariable words", () => {
    expect(rules("dans 1 jours ; 1 lignes chargées")).toEqual([
      "pluriel après 1: 1 jours",
      "pluriel après 1: 1 lignes",
    ]);
    expect(rules("dans 11 jours ; 21 lignes ; 1\u202f000 dossiers ; 1 mois ; 1 dossier ; 1 ESSMS")).toEqual(
      [],
    );
  });

  it("leaves French text, names, e-mail addresses and file names alone", () => {
    expect(
      rules(
        "Connecté : amoa@demo.invalid (AMOA) — Opposition à Mon espace santé — données invalides — " +
          "Comment est-ce calculé ? — fichier dmp_envoi.csv, mss.csv — l'agenda du mois — DEMO-OCC-01 — janv. 2025",
        ["OCC"],
      ),
    ).toEqual([]);
  });
});
