/** A populated database and users of every role for the API tests. */
import { join } from "node:path";
import type { Db } from "../../db/index.ts";
import { ingestPaths } from "../../ingest/ingest.ts";
import { importReferential } from "../../ingest/programme.ts";
import { addUser } from "../../services/accounts.ts";
import { hashPassword, type Role } from "../../sql/identity.ts";
import { goldenRoot, SECRET, sharedSeed, writeTemp } from "./helpers.ts";

/** Grappe T1 (OCC, the mini case) and a foreign grappe F1 in another region (BRE). */
export const REFERENTIAL = `grappe_id;grappe_nom;region;finess;finess_ej;raison_sociale;categorie;public;type_projet;exempt_mss_dmp;rang;ratio_heures_eligibles;financement_specifique_eur;date_debut_projet;date_vsr
T1;Grappe test;OCC;340000017;340000025;EHPAD Les Tilleuls;500;PA;acquisition;0;1;;;2024-06-01;2025-04-01
T1;Grappe test;OCC;2A0000017;340000025;SMJPM Ajaccio;340;PJM;mise_a_niveau;1;2;;;2024-06-01;2025-04-01
T1;Grappe test;OCC;310000039;310000039;SAA Garonne;460;DOM;acquisition;0;3;0,5;2000;2024-06-01;2025-04-01
F1;Grappe bretonne;BRE;350000014;350000022;IME Armor;183;PH;acquisition;0;1;;;2024-06-01;2025-06-01
`;

export const PASSWORD = "mot-de-passe-de-test-solide";

/**
 * The origin of `app.request()` (its URLs are `http://localhost/…`): what the dashboard, served
 * by the app itself, sends as `Origin` on every write. Writes without it are refused (CSRF).
 */
export const LOCAL_ORIGIN = "http://localhost";

/** A JSON write (POST by default) as the dashboard makes it: JSON body, same-origin `Origin`. */
export function jsonInit(
  body: unknown,
  { method = "POST", origin = LOCAL_ORIGIN, headers = {} as Record<string, string> } = {},
): RequestInit {
  return {
    method,
    headers: { "content-type": "application/json", origin, ...headers },
    body: JSON.stringify(body),
  };
}

export const USERS: Record<string, { email: string; role: Role; region?: string; grappes?: string[] }> = {
  admin: { email: "admin@test.invalid", role: "admin" },
  ars: { email: "ars.occ@test.invalid", role: "ars", region: "OCC" },
  ars_bre: { email: "ars.bre@test.invalid", role: "ars", region: "BRE" },
  chef_projet: { email: "chef@test.invalid", role: "chef_projet", grappes: ["T1"] },
  amoa: { email: "amoa@test.invalid", role: "amoa", grappes: ["T1"] },
  chef_bre: { email: "chef.bre@test.invalid", role: "chef_projet", grappes: ["F1"] },
};

/**
 * The API tests' database: the referential above, the mini case's exports, two dossiers of F1 and
 * the users (made once per run on PGlite, `sharedSeed`).
 */
export const populate = sharedSeed("populate", async (db: Db): Promise<void> => {
  const ref = await importReferential(db, writeTemp("referentiel.csv", REFERENTIAL));
  if (ref.status !== "loaded") throw new Error(ref.message);
  await ingestPaths(db, [join(goldenRoot(), "mini", "exports")], { secret: SECRET });
  const foreign = writeTemp(
    "dossiers_bre.csv",
    "finess;usager_id;date_entree;date_sortie;date_creation;date_derniere_maj;sejour_id\n350000014;b1;2024-01-01;;;2025-05-01;\n350000014;b2;2024-01-01;;;2025-05-01;\n",
  );
  await ingestPaths(db, [foreign], { secret: SECRET });
  for (const u of Object.values(USERS))
    await addUser(db, { ...u, region: u.region ?? null, grappes: u.grappes ?? [], password: PASSWORD });
  await cheapPasswords(db);
});

/**
 * The fixture users' passwords hashed with scrypt N = 2^10 instead of the product's 2^14
 * (`sql/identity.ts` `SCRYPT`): a login then costs ~1 ms of scrypt instead of ~50 ms, and the
 * quick tier logs in ~140 times. The hash carries its parameters, so the login path is the
 * product's own; what the product hashes keeps its cost (test/unit/passwords.test.ts).
 */
export async function cheapPasswords(db: Db): Promise<void> {
  await db.query("update app_user set password_hash = $1", [await hashPassword(PASSWORD, 1024)]);
}

/** Logs in through the app in-process (`app.request`) and returns the session cookie. */
export async function sessionCookie(
  app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> },
  who: keyof typeof USERS,
): Promise<string> {
  const res = await app.request("/api/session", jsonInit({ email: USERS[who]?.email, password: PASSWORD }));
  return (res.headers.get("set-cookie") ?? "").split(";")[0] as string;
}

/**
 * An AMOA's proposal for one usager opposed to `indicateur` at this ESSMS, from 2025-04-01
 * (the adjustment the cache and ready-answer tests propose, then decide).
 */
export function oppositionProposal(finess: string, indicateur: "dmp" | "mss" = "dmp") {
  return {
    finess,
    indicateur,
    nombre: 1,
    categorie: "opposition_mes" as const,
    justification: "usager opposé",
    date_debut: "2025-04-01",
    date_fin: null,
  };
}

/** A corrective action on the agenda indicator of this ESSMS, to do, made by hand (no worklist). */
export function agendaAction(finess: string) {
  return {
    finess,
    indicateur: "agenda" as const,
    description: "relancer les équipes",
    owner: null,
    due_date: null,
    status: "A_FAIRE" as const,
    from_worklist: null,
  };
}
