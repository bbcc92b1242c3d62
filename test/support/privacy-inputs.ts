/**
 * Inputs that carry distinctive DUI identifiers of every kind and MS Santé recipients (issue 35,
 * ADR 0027), how a test turns a database back into one imported before identifiers were keyed
 * (migration 0019) or while the `destinataire` was stored (migration 0023), and what a table's file
 * holds.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { Db } from "../../db/index.ts";
import { ingestPaths } from "../../ingest/ingest.ts";
import { IDENTIFIER_KINDS } from "../../ingest/pseudonym.ts";
import { goldenRoot, keyed, ROOT, SECRET, tempDir, writeTemp } from "./helpers.ts";

/**
 * Distinctive ids of every kind, and MS Santé recipients' addresses: none of them may be found
 * where the database keeps its data.
 */
export const IDS = {
  usager: ["USAGERZQX401", "USAGERZQX402"],
  sejour: ["SEJOURZQX501", "SEJOURZQX502"],
  pp: ["PROJETZQX601"],
  evenement: ["EVENEMENTZQX701", "EVENEMENTZQX702"],
  message: ["MESSAGEZQX801", "MESSAGEZQX802"],
  document: ["DOCUMENTZQX901"],
  eprescription: ["EPRESCRIPTIONZQX951"],
  eparcours: ["EPARCOURSZQX961"],
  // MS Santé addresses as a DUI exports them (a patient's, a professional's): never stored
  destinataire: ["2750399123456.zqx971@patient.mssante.fr", "dr.zqx972@medecin.mssante.fr"],
  // the Bundle's séjour, event and PP numbers (fixtures/tddui/bundle-mini.json, rewritten)
  bundle: ["1", "2", "3"].flatMap((n) => [`8675309100${n}`, `8675309200${n}`, `8675309300${n}`]),
};
export const ALL_IDS = Object.values(IDS).flat();

/** Five small DUI exports and the optional kinds, carrying the distinctive ids; and a Bundle. */
export function distinctiveExports(): string {
  const dir = tempDir("cibles-privacy-");
  const [u1, u2] = IDS.usager;
  writeTemp(
    "dossiers_zqx.csv",
    `finess;usager_id;date_entree;date_sortie;date_creation;date_derniere_maj;sejour_id\n340000017;${u1};2024-01-01;;2024-01-01;2025-05-10;${IDS.sejour[0]}\n340000017;${u2};2024-02-01;;2024-02-01;2025-06-10;${IDS.sejour[1]}\n`,
    dir,
  );
  writeTemp(
    "projets_personnalises_zqx.csv",
    `finess;usager_id;pp_id;statut;date_creation;date_debut;date_fin;date_maj\n340000017;${u1};${IDS.pp[0]};ENCOURS;2024-03-01;2024-03-15;;2025-05-01\n`,
    dir,
  );
  writeTemp(
    "agenda_zqx.csv",
    `finess;usager_id;evenement_id;date_debut;date_fin;statut;type;date_maj\n340000017;${u1};${IDS.evenement[0]};2025-05-02;;TERMINE;;\n340000017;${u2};${IDS.evenement[1]};2025-06-03;;PLANIFIE;;\n`,
    dir,
  );
  writeTemp(
    "mss_zqx.csv",
    `finess;message_id;date_envoi;sens;statut;usager_id;destinataire\n340000017;${IDS.message[0]};2025-05-04;ENVOYE;OK;${u1};${IDS.destinataire[0]}\n340000017;${IDS.message[1]};2025-05-05;ENVOYE;OK;${u2};${IDS.destinataire[1]}\n`,
    dir,
  );
  writeTemp(
    "dmp_zqx.csv",
    `finess;document_id;usager_id;date_depot;statut;type_document\n340000017;${IDS.document[0]};${u2};2025-05-05;DEPOSE;CR\n`,
    dir,
  );
  writeTemp("eprescription_zqx.csv", `finess;id;date\n340000017;${IDS.eprescription[0]};2025-05-06\n`, dir);
  writeTemp("eparcours_zqx.csv", `finess;id;date\n340000017;${IDS.eparcours[0]};2025-05-07\n`, dir);
  const bundle = readFileSync(join(ROOT, "fixtures", "tddui", "bundle-mini.json"), "utf8")
    .replaceAll("-SEJOUR-100", "-SEJOUR-8675309100")
    .replaceAll("-EVN-200", "-EVN-8675309200")
    .replaceAll("-PPER-300", "-PPER-8675309300");
  writeTemp("tddui_zqx.json", bundle, dir);
  return dir;
}

/** The distinctive ids (and the mini case's) found in a text: none may be. */
export function idsIn(text: string): string[] {
  return ALL_IDS.filter((id) => text.includes(id));
}

export async function loadAll(db: Db): Promise<string[]> {
  const dirs = [join(goldenRoot(), "mini", "exports"), distinctiveExports()];
  const files = await ingestPaths(db, dirs, { secret: SECRET });
  // The mini case refuses two of its files on purpose; every distinctive one loads.
  const mine = files.filter((f) => f.file.includes("zqx"));
  expect(mine.map((f) => [f.file, f.status, f.rejected])).toEqual(mine.map((f) => [f.file, "loaded", 0]));
  return dirs;
}

/** Every cell of the exports of the test: the candidates a stored key may have been made from. */
function exportCells(dirs: readonly string[]): string[] {
  const cells = new Set<string>();
  for (const dir of dirs)
    for (const f of readdirSync(dir))
      if (f.endsWith(".csv"))
        for (const line of readFileSync(join(dir, f), "utf8").split(/\r?\n/).slice(1))
          for (const cell of line.split(";")) {
            // as the reader keeps an identifier: without the invisible characters at its ends
            const c = cell.replace(/^[\s\u00a0\u200b\ufeff"]+|[\s\u00a0\u200b\ufeff"]+$/g, "");
            if (c !== "") cells.add(c);
          }
  for (const id of IDS.bundle) cells.add(id);
  return [...cells];
}

/**
 * Turns the database back into one imported before migration 0019: every keyed identifier
 * written back as it came (found among the inputs' cells), the keys not yet done, no secret known.
 */
export async function unkey(db: Db, dirs: readonly string[]): Promise<number> {
  const cells = exportCells(dirs);
  const clear = new Map<string, string>();
  for (const finess of ["340000017", "2A0000017", "310000039"])
    for (const kind of IDENTIFIER_KINDS) for (const c of cells) clear.set(keyed(kind, finess, c), c);
  let n = 0;
  const tables = [
    ["projet_personnalise", "pp_id"],
    ["agenda_event", "evenement_id"],
    ["mss_message", "message_id"],
    ["dmp_document", "document_id"],
    ["optional_event", "event_id"],
  ] as const;
  for (const [table, column] of tables) {
    for (const r of await db.query<{ v: string; f: string }>(
      `select distinct ${column} as v, finess as f from ${table}`,
    )) {
      const id = clear.get(r.v);
      expect(id, `${table}.${column} ${r.f} ${r.v}`).toBeDefined();
      await db.query(`update ${table} set ${column} = $1 where ${column} = $2`, [id, r.v]);
      n += 1;
    }
  }
  for (const r of await db.query<{ v: string }>(
    "select distinct sejour_key as v from sejour where sejour_key like 's:%'",
  )) {
    const id = clear.get(r.v.slice(2));
    expect(id, "sejour.sejour_key").toBeDefined();
    await db.query("update sejour set sejour_key = $1 where sejour_key = $2", [`s:${id}`, r.v]);
    n += 1;
  }
  await db.query("update privacy_state set identifiers_keyed = false, keyed_at = null, secret_check = null");
  return n;
}

/**
 * Turns the database back into one of before migration 0023: every MS Santé message with its
 * `destinataire` as exported (`value`), the migration not applied.
 */
export async function storeDestinataire(db: Db, value: string): Promise<void> {
  await db.query("alter table mss_message add column destinataire text");
  await db.query("update mss_message set destinataire = $1", [value]);
  await db.query("alter table privacy_state drop column tables_to_rewrite");
  await db.query("delete from schema_migration where version = '0023_mss_destinataire_dropped.sql'");
}

/** Where a table's rows are on disk (its first segment, relative to the data directory). */
export async function tableFile(db: Db, table: string): Promise<string> {
  const [r] = await db.query<{ p: string }>("select pg_relation_filepath($1::regclass) as p", [table]);
  return r?.p as string;
}

/**
 * Whether a file of the data directory holds `text` once a checkpoint has written every page:
 * the bytes a copy of the database's files would hold (read by the server itself, on both backends).
 */
export async function fileHolds(db: Db, path: string, text: string): Promise<boolean> {
  await db.query("checkpoint");
  const [r] = await db.query<{ b: Uint8Array | null }>(
    "select pg_read_binary_file($1, 0, (pg_stat_file($1, true)).size, true) as b",
    [path],
  );
  return r?.b ? Buffer.from(r.b).includes(text) : false;
}
