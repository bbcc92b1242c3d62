/** domain/accounts.ts: who may invite or change whom, who sees whom, a password's form (issue 32). */
import { describe, expect, it } from "vitest";
import { type Actor, mayGrant, passwordFormProblem, sees } from "../../domain/accounts.ts";

const REGION: Record<string, string> = { T1: "OCC", T2: "OCC", F1: "BRE" };
const regionOf = (g: string) => REGION[g] ?? null;
const admin: Actor = { role: "admin", region: null, grappes: [] };
const ars: Actor = { role: "ars", region: "OCC", grappes: [] };
const chef: Actor = { role: "chef_projet", region: null, grappes: ["T1"] };
const amoa: Actor = { role: "amoa", region: null, grappes: ["T1"] };
const account = (role: Actor["role"], region: string | null, grappes: string[]) => ({
  role,
  region,
  grappes,
});

describe("who may grant what", () => {
  it("lets the admin grant anything, the ARS its region's roles and grappes, the chef its grappes' team, the AMOA nothing", () => {
    expect(mayGrant(admin, account("admin", null, []), regionOf)).toBe(true);
    expect(mayGrant(ars, account("ars", "OCC", []), regionOf)).toBe(true);
    expect(mayGrant(ars, account("ars", "BRE", []), regionOf)).toBe(false);
    expect(mayGrant(ars, account("admin", null, []), regionOf)).toBe(false);
    expect(mayGrant(ars, account("chef_projet", null, ["T1", "T2"]), regionOf)).toBe(true);
    expect(mayGrant(ars, account("chef_projet", null, ["T1", "F1"]), regionOf)).toBe(false);
    expect(mayGrant(chef, account("amoa", null, ["T1"]), regionOf)).toBe(true);
    expect(mayGrant(chef, account("amoa", null, ["T2"]), regionOf)).toBe(false);
    expect(mayGrant(chef, account("ars", "OCC", []), regionOf)).toBe(false);
    expect(mayGrant(chef, account("chef_projet", null, []), regionOf)).toBe(false);
    expect(mayGrant(amoa, account("amoa", null, ["T1"]), regionOf)).toBe(false);
  });

  it("shows each actor the accounts of its scope only", () => {
    expect(sees(ars, account("chef_projet", null, ["F1", "T2"]), regionOf)).toBe(true);
    expect(sees(ars, account("chef_projet", null, ["F1"]), regionOf)).toBe(false);
    expect(sees(ars, account("ars", "BRE", []), regionOf)).toBe(false);
    expect(sees(chef, account("amoa", null, ["T1"]), regionOf)).toBe(true);
    expect(sees(chef, account("ars", "OCC", []), regionOf)).toBe(false);
    expect(sees(amoa, account("amoa", null, ["T1"]), regionOf)).toBe(false);
  });
});

describe("a password's form", () => {
  it("wants 12 characters and not the address", () => {
    expect(passwordFormProblem("court", "a@b.fr")).toMatch(/trop court \(12/);
    expect(passwordFormProblem("x".repeat(1025), "a@b.fr")).toMatch(/trop long/);
    expect(passwordFormProblem("jean.dupont@ars.fr", "jean.dupont@ars.fr")).toMatch(/adresse/);
    expect(passwordFormProblem("Jean-Dupont-2026!", "jean.dupont@ars.fr")).toMatch(/adresse/);
    expect(passwordFormProblem("demo-amoa-ne-pas-utiliser", "amoa@demo.invalid")).toBeNull();
    expect(passwordFormProblem("une phrase de passe assez longue", "jean.dupont@ars.fr")).toBeNull();
  });
});
