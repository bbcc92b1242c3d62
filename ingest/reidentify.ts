/**
 * Re-identification without storage (issue 15 §2): an ESSMS's own DUI export (any kind that
 * carries `usager_id`, canonical or through the ESSMS's vendor profile) is read in memory, each
 * row's pseudonym computed as at import (exports.md §1), and matched with a worklist. Nothing of
 * the file is stored or logged; only the matches go back to whoever sent it.
 */
import { DomainError, isDomainError } from "../domain/errors.ts";
import { fileInput, mapColumns, openCsv, probeFile } from "./csv.ts";
import { kindFromFileName } from "./kinds.ts";
import { type Profile, profileRenames } from "./profile.ts";
import { pseudonymise } from "./pseudonym.ts";

/** A DUI local id found on the worklist (`ref`): what the ESSMS's staff looks for in its DUI. */
export interface Match {
  usager_id: string;
  ref: string;
}

/**
 * Reads `path` and returns the local ids of `finess` whose pseudonym is in `onList` (pseudonym →
 * ref), each once, in ref order. Errors: DomainError "file_refused" (French) when the file is not
 * a readable CSV or has no `finess` and `usager_id` columns.
 */
export async function reidentify(
  path: string,
  finess: string,
  secret: string,
  onList: ReadonlyMap<string, string>,
  profile: Profile | null = null,
): Promise<Match[]> {
  const probe = await probeFile(path);
  if (probe.bytes === 0 || !probe.isText)
    throw new DomainError("file_refused", "fichier vide ou qui n'est pas un fichier texte (CSV attendu)");
  let source: Awaited<ReturnType<typeof openCsv>>;
  try {
    source = await openCsv(fileInput(path), probe.encoding);
  } catch (e) {
    if (isDomainError(e, "file_refused")) throw e;
    throw new DomainError("file_refused", "fichier CSV illisible");
  }
  const kind = kindFromFileName(path.split("/").pop() ?? "") ?? "*";
  const { index, missing } = mapColumns(
    source.header,
    ["finess", "usager_id"],
    ["finess", "usager_id"],
    profileRenames(profile, kind),
  );
  if (missing.length > 0) {
    await source.close();
    throw new DomainError(
      "file_refused",
      `colonnes obligatoires manquantes : ${missing.join(", ")} (un export du DUI de l'ESSMS portant l'identifiant local des usagers)`,
    );
  }
  const found = new Map<string, Match>();
  for await (const rec of source.records) {
    const f = rec.fields[index.finess as number]?.trim();
    const id = rec.fields[index.usager_id as number]?.trim();
    if (f !== finess || !id) continue;
    const ref = onList.get(pseudonymise(secret, finess, id));
    if (ref !== undefined && !found.has(ref)) found.set(ref, { usager_id: id, ref });
  }
  return [...found.values()].sort((a, b) => (a.ref < b.ref ? -1 : 1));
}
