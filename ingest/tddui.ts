/**
 * TDDUI FHIR Bundles as input (exports.md, ADR 0014): a `*.json` file is read as a Bundle of the
 * ANS implementation guide « Médicosocial – Transfert de données DUI »
 * (ansforge/IG-fhir-medicosocial-transfert-donnees-dui, `input/fsh/Profiles/`):
 *
 * - `TDDUIBundle` (`tddui-bundle`): `Bundle`, `type = #transaction`, entries sliced by profile;
 * - `TDDUIPatient` / `TDDUIPatientINS` (`tddui-patient`, `tddui-patient-ins`): the usager; its
 *   local identifier (`identifier[PI]`, system `https://identifiant-medicosocial-localusager.esante.gouv.fr`,
 *   value « 3+FINESS/identifiantLocalUsagerESSMS », e.g. `3480787529/194704032`) is the only
 *   element read — never the INS (`identifier[INS-NIR]`, `urn:oid:1.2.250.1.213.1.4.8`), names,
 *   birth date or address;
 * - `TDDUIOrganization` (`tddui-organization`): `identifier[idNatSt]`
 *   (`urn:oid:1.2.250.1.71.4.2.2`, « 1 » + FINESS, e.g. `1480787529`) gives the FINESS;
 * - `TDDUIEncounterSejour` (`tddui-encounter-sejour`): `identifier[idStay]` (type `SEJ`, value
 *   « 3+FINESS/identifiantLocalUsagerESSMS-SEJOUR-numeroDossier »), `subject`, `serviceProvider`,
 *   `period.start` / `period.end` (dateEntree / dateSortie) → a `dossiers` row;
 * - `TDDUIEncounterEvenement` (`tddui-encounter-evenement`): `identifier` (« …-EVN-numEvenement »),
 *   `status` (« Planifié → planned, Validé → triaged, Réalisé → finished, Annulé → cancelled »),
 *   `type`, `period`, `partOf` (the séjour), `meta.lastUpdated` (dateModificationEvenement)
 *   → an `agenda` row;
 * - `TDDUICarePlanProjetPersonnalise` (`tddui-careplan-projet-personnalise`, earlier
 *   `tddui-careplan-projet-perso`): `identifier` (« …-PPER-numProjetPersonnalise »), `status`
 *   (« ENPREPARATION → draft, ENCOURS → active, ENPAUSE → on-hold, TERMINE → completed »),
 *   `created`, `period`, `meta.lastUpdated` (statutProjetPersonnalise.dateStatut)
 *   → a `projets_personnalises` row.
 *
 * Each kind's rows are the very records the CSV reader yields (canonical columns, text cells), so
 * validation, pseudonymisation, idempotency and the merge are the CSV import's (pipeline.ts);
 * a rejected row names the JSON path of the faulty element (`entry[12].resource.period.start`)
 * in place of a column, and its entry's index in place of a line, never a value.
 *
 * Streaming (@streamparser/json, `$.entry.*` with `keepStack: false`): one entry at a time is in
 * memory. A first pass checks that the file is a TDDUI Bundle, hashes it and keeps, per usager
 * and per organisation, their reference and the few strings read from them (the guide does not
 * order entries: an encounter may come before its patient); then one pass per kind present.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { JSONParser } from "@streamparser/json";
import { type Db, savepointDb } from "../db/index.ts";
import { parseParisDay } from "../domain/dates.ts";
import { assertRegularFile, type CsvRecord, type CsvSource } from "./csv.ts";
import { dryRunChanges, measureState, type StateOfEssms } from "./dry-run.ts";
import type { RowError } from "./fields.ts";
import { KIND_DEFS } from "./kinds.ts";
import { ingestRecords } from "./pipeline.ts";
import { refusedFile } from "./record.ts";
import type { DryRunChanges, FileSource, IngestFileResult, IngestOptions } from "./result.ts";

/** Canonical URL of the guide's profiles (`https://interop.esante.gouv.fr/ig/fhir/tddui/StructureDefinition/<id>`). */
export const TDDUI_PROFILE_BASE = "https://interop.esante.gouv.fr/ig/fhir/tddui/StructureDefinition/";

/** The kinds a TDDUI Bundle feeds, in the order they are imported. */
export const TDDUI_KINDS = ["dossiers", "dossier_maj", "projets_personnalises", "agenda"] as const;
export type TdduiKind = (typeof TDDUI_KINDS)[number];

/** `Encounter.status` (TDDUIEncounterEvenement) → agenda status (exports.md §4). */
export const EVENT_STATUS: Readonly<Record<string, string>> = {
  planned: "PLANIFIE",
  triaged: "VALIDE",
  finished: "TERMINE",
  cancelled: "ANNULE",
};

/** `CarePlan.status` (TDDUICarePlanProjetPersonnalise) → projet personnalisé status. */
export const CAREPLAN_STATUS: Readonly<Record<string, string>> = {
  draft: "ENPREPARATION",
  active: "ENCOURS",
  "on-hold": "ENPAUSE",
  completed: "TERMINE",
};

/** System of the usager's local identifier (TDDUIPatient / TDDUIPatientINS `identifier[PI]`). */
const LOCAL_USAGER_SYSTEM = "https://identifiant-medicosocial-localusager.esante.gouv.fr";
/** National structure identifier (FR Core `identifier[idNatSt]`): « 1 » + FINESS. */
const ID_NAT_STRUCT_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2";
/** « 3+FINESS/… »: the guide's business identifiers start with the structure's FINESS. */
const FINESS_PREFIX = /^3(\d{9}|2[AB]\d{7})\/(.+)$/;

/** A file refused whole (nothing of it is loaded), with its French reason. */
export class BundleRefused extends Error {}

type Json = Record<string, unknown>;

function obj(v: unknown): Json | null {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : null;
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}
/** A cell as the CSV reader would give it: text, or "" when absent. */
function cell(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return "";
}

/** One entry of the Bundle: its index (`entry[i]`), fullUrl and resource. */
export interface Entry {
  index: number;
  fullUrl: string | null;
  resource: Json | null;
}

/**
 * The Bundle's entries in document order, a few at a time, from a byte stream; the top-level
 * `resourceType` and `meta` are reported through `top` as soon as they are read. Bytes go to
 * `onBytes` (the content's hash). A JSON syntax error refuses the file.
 */
export async function* bundleEntries(
  input: () => NodeJS.ReadableStream,
  top: { resourceType?: unknown; meta?: unknown },
  onBytes?: (chunk: Buffer) => void,
): AsyncGenerator<Entry[]> {
  const parser = new JSONParser({ paths: ["$.resourceType", "$.meta", "$.entry.*"], keepStack: false });
  let pending: Entry[] = [];
  let entryNotList = false;
  let offset = 0;
  // Where the last value was complete: a value (an entry, `meta`) spanning more bytes than
  // MAX_VALUE_BYTES is refused before it is held in memory.
  let lastValueAt = 0;
  parser.onValue = ({ value, key, stack }) => {
    lastValueAt = offset;
    if (stack.length === 1) {
      if (key === "resourceType") top.resourceType = value;
      else if (key === "meta") top.meta = value;
      return;
    }
    if (typeof key !== "number") {
      entryNotList = true;
      return;
    }
    const e = obj(value);
    pending.push({
      index: key,
      fullUrl: str(e?.fullUrl),
      resource: obj(e?.resource),
    });
  };
  let first = true;
  for await (const raw of input() as AsyncIterable<Buffer>) {
    onBytes?.(raw);
    let chunk = raw;
    if (first) {
      first = false;
      if (chunk[0] === 0xff || chunk[0] === 0xfe)
        throw new BundleRefused("fichier JSON en UTF-16 : le JSON doit être encodé en UTF-8");
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    if (parser.isEnded) {
      if (chunk.toString("latin1").trim() !== "") throw notJson(offset);
    } else {
      try {
        parser.write(chunk);
      } catch {
        // The library's message may quote the document: never passed on.
        throw notJson(offset);
      }
    }
    offset += raw.length;
    if (entryNotList)
      throw new BundleRefused(
        "le champ entry du Bundle doit être une liste : seuls les Bundles TDDUI sont lus",
      );
    if (offset - lastValueAt > MAX_VALUE_BYTES)
      throw new BundleRefused(
        `une entrée du Bundle (ou une autre valeur du fichier) dépasse ${MAX_VALUE_BYTES >> 20} Mo : fichier refusé, rien n'a été chargé`,
      );
    if (pending.length > 0) {
      const out = pending;
      pending = [];
      yield out;
    }
    // A top-level value that is not a Bundle: no need to read further.
    if (top.resourceType !== undefined && top.resourceType !== "Bundle") return;
  }
  if (!parser.isEnded) {
    try {
      parser.end();
    } catch {
      throw new BundleRefused(
        offset === 0 ? "fichier vide" : "fichier JSON illisible : document incomplet (fichier tronqué ?)",
      );
    }
  }
  if (pending.length > 0) yield pending;
}

/** The most bytes one value of a Bundle (an entry, `meta`, any other member) may span (16 MB). */
export const MAX_VALUE_BYTES = 16 << 20;

function notJson(offset: number): BundleRefused {
  return new BundleRefused(
    `fichier JSON illisible (vers l'octet ${offset}) : un fichier .json doit être un Bundle FHIR TDDUI`,
  );
}

/** The last segment of each `meta.profile` (version suffix `|x.y.z` removed), lower case. */
function profileIds(resource: Json | null): string[] {
  return arr(obj(resource?.meta)?.profile)
    .map((p) => str(p))
    .filter((p): p is string => p !== null)
    .map((p) => (p.split("|")[0] as string).split("/").pop()?.toLowerCase() ?? "");
}

type Role = "patient" | "organization" | "sejour" | "evenement" | "careplan" | null;

/**
 * What an entry's resource is for us: by its TDDUI profile, else by its type (an Encounter part
 * of another is an événement, else a séjour, as in the guide where only événements have `partOf`).
 */
export function roleOf(resource: Json | null): Role {
  if (!resource) return null;
  const type = str(resource.resourceType);
  const ids = profileIds(resource);
  if (type === "Patient") return "patient";
  if (type === "Organization") return "organization";
  if (type === "CarePlan") return "careplan";
  if (type !== "Encounter") return null;
  if (ids.includes("tddui-encounter-sejour")) return "sejour";
  if (ids.includes("tddui-encounter-evenement")) return "evenement";
  return obj(resource.partOf) ? "evenement" : "sejour";
}

/** The keys an entry can be referred to by: its fullUrl, `Type/id`, and its fullUrl's `Type/id`. */
function refKeys(e: Entry): string[] {
  const keys: string[] = [];
  if (e.fullUrl) keys.push(e.fullUrl, tail(e.fullUrl));
  const type = str(e.resource?.resourceType);
  const id = str(e.resource?.id);
  if (type && id) keys.push(`${type}/${id}`);
  return keys;
}

/** `https://h/fhir/Patient/x` → `Patient/x` (and `Patient/x/_history/2` → `Patient/x`). */
function tail(ref: string): string {
  const parts = ref.replace(/\/_history\/[^/]*$/, "").split("/");
  return parts.length >= 2 ? parts.slice(-2).join("/") : ref;
}

function lookup<T>(map: ReadonlyMap<string, T>, reference: unknown): T | undefined {
  const ref = str(obj(reference)?.reference);
  if (!ref) return undefined;
  return map.get(ref) ?? map.get(tail(ref));
}

/** A usager as read from its Patient: the local identifier and its FINESS, nothing else. */
interface Usager {
  local: string | null;
  finess: string | null;
  /** relative JSON path of the identifier read */
  at: string;
}

/** The usager's local identifier (never the INS): « 3+FINESS/local » split, else as written. */
function usagerOf(patient: Json): Usager {
  const ids = arr(patient.identifier);
  for (let i = 0; i < ids.length; i++) {
    const id = obj(ids[i]);
    const codes = arr(obj(id?.type)?.coding).map((c) => str(obj(c)?.code));
    if (str(id?.system) !== LOCAL_USAGER_SYSTEM && !codes.includes("PI") && !codes.includes("PLI")) continue;
    const value = str(id?.value)?.trim();
    if (!value) continue;
    const m = FINESS_PREFIX.exec(value);
    return {
      local: m ? (m[2] as string) : value,
      finess: m ? (m[1] as string) : null,
      at: `identifier[${i}].value`,
    };
  }
  return { local: null, finess: null, at: "identifier" };
}

/** The FINESS of an Organization: `identifier[idNatSt]` « 1 » + FINESS (or the FINESS alone). */
function finessOfOrganization(org: Json): string | null {
  for (const raw of arr(org.identifier)) {
    const id = obj(raw);
    const codes = arr(obj(id?.type)?.coding).map((c) => str(obj(c)?.code));
    if (str(id?.system) !== ID_NAT_STRUCT_SYSTEM && !codes.includes("IDNST")) continue;
    const v = str(id?.value)?.trim() ?? "";
    if (/^1(\d{9}|2[AB]\d{7})$/.test(v)) return v.slice(1);
    if (/^(\d{9}|2[AB]\d{7})$/.test(v)) return v;
  }
  return null;
}

/** What the first pass keeps: the usagers and organisations by reference, the kinds present. */
export interface BundleIndex {
  sha256: string;
  usagers: Map<string, Usager>;
  organizations: Map<string, string | null>;
  /** séjour reference → its serviceProvider reference (an événement's FINESS, through partOf) */
  sejourProviders: Map<string, unknown>;
  /** the only organisation of the Bundle with a FINESS, when there is exactly one */
  soleFiness: string | null;
  counts: Record<TdduiKind, number>;
}

function input(src: FileSource): () => NodeJS.ReadableStream {
  if ("buffer" in src) return () => Readable.from([src.buffer]);
  return () => {
    assertRegularFile(src.path);
    return createReadStream(src.path, { highWaterMark: 1 << 16 });
  };
}

const BUNDLE_PROFILE = "tddui-bundle";

/** The first pass: checks the Bundle (refused otherwise, in French), hashes and indexes it. */
export async function indexBundle(src: FileSource): Promise<BundleIndex> {
  const hash = createHash("sha256");
  const top: { resourceType?: unknown; meta?: unknown } = {};
  const index: BundleIndex = {
    sha256: "",
    usagers: new Map(),
    organizations: new Map(),
    sejourProviders: new Map(),
    soleFiness: null,
    counts: { dossiers: 0, dossier_maj: 0, projets_personnalises: 0, agenda: 0 },
  };
  const finessOfOrgs = new Set<string>();
  let bytes = 0;
  for await (const batch of bundleEntries(input(src), top, (c) => {
    hash.update(c);
    bytes += c.length;
  })) {
    for (const e of batch) {
      const r = e.resource;
      switch (roleOf(r)) {
        case "patient": {
          const u = usagerOf(r as Json);
          for (const k of refKeys(e)) index.usagers.set(k, u);
          if (str(obj(r?.meta)?.lastUpdated)) index.counts.dossier_maj += 1;
          break;
        }
        case "organization": {
          const f = finessOfOrganization(r as Json);
          if (f) finessOfOrgs.add(f);
          for (const k of refKeys(e)) index.organizations.set(k, f);
          break;
        }
        case "sejour":
          index.counts.dossiers += 1;
          for (const k of refKeys(e)) index.sejourProviders.set(k, r?.serviceProvider);
          break;
        case "evenement":
          index.counts.agenda += 1;
          break;
        case "careplan":
          index.counts.projets_personnalises += 1;
          break;
        default:
      }
    }
  }
  if (bytes === 0) throw new BundleRefused("fichier vide");
  if (top.resourceType !== "Bundle")
    throw new BundleRefused(
      // Never the file's own text in a message: only whether the field is there.
      `le fichier JSON n'est pas un Bundle FHIR (resourceType ${typeof top.resourceType === "string" ? "autre que Bundle" : "absent"}) : seuls les Bundles TDDUI sont lus`,
    );
  if (!profileIds({ meta: top.meta }).includes(BUNDLE_PROFILE))
    throw new BundleRefused(
      `le Bundle ne déclare pas le profil TDDUIBundle (meta.profile ${TDDUI_PROFILE_BASE}${BUNDLE_PROFILE}) : seuls les Bundles du guide « Médicosocial – Transfert de données DUI » sont lus`,
    );
  if (TDDUI_KINDS.every((k) => index.counts[k] === 0))
    throw new BundleRefused(
      "le Bundle TDDUI ne contient ni séjour (TDDUIEncounterSejour), ni évènement (TDDUIEncounterEvenement), ni projet personnalisé (TDDUICarePlanProjetPersonnalise), ni usager daté (meta.lastUpdated) : rien à importer",
    );
  index.sha256 = hash.digest("hex");
  index.soleFiness = finessOfOrgs.size === 1 ? ([...finessOfOrgs][0] as string) : null;
  return index;
}

/** A row being built: its cells and where each came from, in the kind's column order. */
class RowBuilder {
  readonly fields: string[];
  readonly rel: string[];
  constructor(private readonly columns: readonly string[]) {
    this.fields = columns.map(() => "");
    this.rel = [...columns];
  }
  set(column: string, value: string, at: string): void {
    const i = this.columns.indexOf(column);
    this.fields[i] = value;
    this.rel[i] = at;
  }
}

/** A FHIR date or dateTime as a day cell: a dateTime is placed on its Paris day (R-T2). */
function dayCell(v: unknown): string {
  const s = cell(v).trim();
  if (s.length > 10 && /^\d{4}-\d{2}-\d{2}T/.test(s)) return parseParisDay(s) ?? s;
  return s;
}

/**
 * The DUI's own number in a business identifier « 3+FINESS/identifiantLocalUsager-TAG-numero »:
 * `numero` (the part naming the usager is dropped: in the guide's own example it is the NIR);
 * an identifier of another form is kept as written, as in a CSV export.
 */
export function dossierNumber(value: string, tag: string): string {
  const m = FINESS_PREFIX.exec(value.trim());
  const rest = m ? (m[2] as string) : value.trim();
  // The tag in any case (« -SEJOUR- », « -sejour- »).
  const i = rest.toUpperCase().lastIndexOf(`-${tag.toUpperCase()}-`);
  if (i >= 0) return rest.slice(i + tag.length + 2);
  if (!m) return rest;
  // The guide's form with its tag misspelt: the usager part is never kept, only what follows
  // the last hyphen (the number), or nothing.
  const j = rest.lastIndexOf("-");
  return j >= 0 ? rest.slice(j + 1) : "";
}

/** The resource's business identifier: the slice of type `code` (or system containing `hint`), else the first. */
function businessId(r: Json, code: string, hint: string): { value: string; at: string } {
  const ids = arr(r.identifier).map(obj);
  let at = ids.findIndex(
    (id) =>
      arr(obj(id?.type)?.coding).some((c) => str(obj(c)?.code) === code) ||
      (str(id?.system) ?? "").includes(hint),
  );
  if (at < 0) at = ids.findIndex((id) => str(id?.value) !== null);
  if (at < 0) return { value: "", at: "identifier" };
  return { value: str(ids[at]?.value) ?? "", at: `identifier[${at}].value` };
}

/**
 * The row's FINESS, first found: the `serviceProvider` organisation (through `partOf` for an
 * événement), the « 3+FINESS/… » prefix of the resource's identifier, the usager's local
 * identifier, the Bundle's only organisation.
 */
function finessOf(
  r: Json,
  index: BundleIndex,
  id: { value: string; at: string },
  usager: Usager | undefined,
): { value: string; at: string } {
  const provider = lookup(index.organizations, r.serviceProvider);
  if (provider) return { value: provider, at: "serviceProvider" };
  const viaSejour = lookup(index.sejourProviders, r.partOf);
  const sejourProvider = viaSejour === undefined ? undefined : lookup(index.organizations, viaSejour);
  if (sejourProvider) return { value: sejourProvider, at: "partOf" };
  const fromId = FINESS_PREFIX.exec(id.value.trim());
  if (fromId) return { value: fromId[1] as string, at: id.at };
  if (usager?.finess) return { value: usager.finess, at: "subject" };
  if (index.soleFiness) return { value: index.soleFiness, at: "serviceProvider" };
  return { value: "", at: obj(r.serviceProvider) ? "serviceProvider" : "identifier" };
}

function usagerCell(row: RowBuilder, usager: Usager | undefined): void {
  row.set("usager_id", usager?.local ?? "", "subject");
}

/** The mapped status code, or the code as written (refused as unknown by the vocabulary). */
function statusCell(map: Readonly<Record<string, string>>, v: unknown): string {
  const s = cell(v).trim();
  return map[s] ?? (s === "" ? "" : `fhir:${s}`);
}

/**
 * The event's type: the first coded type (Serafin-PH or SSIAD code), else the free text of
 * `type[text]` (coded `not-permitted` by the guide).
 */
function eventType(r: Json): { value: string; at: string } | null {
  const types = arr(r.type).map(obj);
  for (let ti = 0; ti < types.length; ti++) {
    const codings = arr(types[ti]?.coding).map(obj);
    for (let ci = 0; ci < codings.length; ci++) {
      const code = str(codings[ci]?.code);
      if (code && code !== "not-permitted") return { value: code, at: `type[${ti}].coding[${ci}].code` };
    }
  }
  const tt = types.findIndex((t) => str(t?.text));
  return tt >= 0 ? { value: cell(types[tt]?.text), at: `type[${tt}].text` } : null;
}

/**
 * The cells every kind's row starts with: its FINESS, its usager, and the DUI's own number from
 * the resource's business identifier (`code`/`hint` find it, `tag` is the guide's « -TAG- »).
 */
function identify(
  row: RowBuilder,
  r: Json,
  index: BundleIndex,
  usager: Usager | undefined,
  o: { code: string; hint: string; tag: string; column: string },
): void {
  const id = businessId(r, o.code, o.hint);
  const f = finessOf(r, index, id, usager);
  row.set("finess", f.value, f.at);
  usagerCell(row, usager);
  row.set(o.column, id.value === "" ? "" : dossierNumber(id.value, o.tag), id.at);
}

/** One row of `kind` from an entry, or null when the entry is not of that kind. */
function rowOf(e: Entry, kind: TdduiKind, index: BundleIndex): RowBuilder | null {
  const r = e.resource;
  if (!r) return null;
  const role = roleOf(r);
  const def = KIND_DEFS[kind];
  const row = new RowBuilder(def.columns);
  const lastUpdated = obj(r.meta)?.lastUpdated;
  if (kind === "dossier_maj") {
    if (role !== "patient" || !str(lastUpdated)) return null;
    const u = usagerOf(r);
    row.set("finess", u.finess ?? index.soleFiness ?? "", u.finess ? u.at : "identifier");
    row.set("usager_id", u.local ?? "", u.at);
    row.set("date_maj", cell(lastUpdated), "meta.lastUpdated");
    return row;
  }
  const usager = lookup(index.usagers, r.subject);
  const period = obj(r.period);
  if (kind === "dossiers") {
    if (role !== "sejour") return null;
    identify(row, r, index, usager, { code: "SEJ", hint: "sejour", tag: "SEJOUR", column: "sejour_id" });
    row.set("date_entree", dayCell(period?.start), "period.start");
    row.set("date_sortie", dayCell(period?.end), "period.end");
    row.set("date_derniere_maj", cell(lastUpdated), "meta.lastUpdated");
    return row;
  }
  if (kind === "agenda") {
    if (role !== "evenement") return null;
    identify(row, r, index, usager, { code: "EVN", hint: "evenement", tag: "EVN", column: "evenement_id" });
    row.set("date_debut", cell(period?.start), "period.start");
    row.set("date_fin", cell(period?.end), "period.end");
    row.set("statut", statusCell(EVENT_STATUS, r.status), "status");
    const t = eventType(r);
    if (t) row.set("type", t.value, t.at);
    row.set("date_maj", cell(lastUpdated), "meta.lastUpdated");
    return row;
  }
  // projets_personnalises
  if (role !== "careplan") return null;
  identify(row, r, index, usager, { code: "PPER", hint: "projetpersonnalise", tag: "PPER", column: "pp_id" });
  row.set("statut", statusCell(CAREPLAN_STATUS, r.status), "status");
  row.set("date_creation", cell(r.created), "created");
  row.set("date_debut", dayCell(period?.start), "period.start");
  row.set("date_fin", dayCell(period?.end), "period.end");
  row.set("date_maj", cell(lastUpdated), "meta.lastUpdated");
  return row;
}

/** The rows of one kind as a CSV source (header: the kind's canonical columns), streamed. */
export function bundleSource(src: FileSource, kind: TdduiKind, index: BundleIndex): CsvSource {
  const columns = [...KIND_DEFS[kind].columns];
  const entries = bundleEntries(input(src), {});
  const batches: AsyncIterable<CsvRecord[]> = {
    async *[Symbol.asyncIterator]() {
      for await (const batch of entries) {
        const out: CsvRecord[] = [];
        for (const e of batch) {
          const row = rowOf(e, kind, index);
          if (row)
            out.push({
              line: e.index,
              fields: row.fields,
              where: { base: `entry[${e.index}].resource`, rel: row.rel },
            });
        }
        if (out.length > 0) yield out;
      }
    },
  };
  const records: AsyncIterable<CsvRecord> = {
    async *[Symbol.asyncIterator]() {
      for await (const b of batches) yield* b;
    },
  };
  return {
    header: columns,
    delimiter: ",",
    batches,
    records,
    close: async () => {
      await entries.return(undefined);
    },
  };
}

/** `*.json`: a TDDUI Bundle (exports.md, ADR 0014). */
export function isJsonName(name: string): boolean {
  return name.toLowerCase().endsWith(".json");
}

/**
 * Imports a TDDUI Bundle: one import per kind it holds (dossiers, dossier_maj, projets
 * personnalisés, agenda, in that order), each exactly as the equivalent CSV export, its
 * idempotency key the file's content hash and the kind. A file that is not a TDDUI Bundle is
 * refused whole before anything is loaded. An upload's reserved record (`importId`) is the
 * first kind's.
 */
export async function ingestBundle(
  db: Db,
  src: FileSource,
  label: string,
  opts: IngestOptions,
): Promise<IngestFileResult[]> {
  const base = { file: label, kind: null, rows: 0, loaded: 0, rejected: 0, errors: [] as RowError[] };
  let index: BundleIndex;
  try {
    index = await indexBundle(src);
  } catch (e) {
    if (e instanceof BundleRefused) return [await refusedFile(db, base, undefined, e.message, opts)];
    if ((e as { code?: string }).code === "file_refused")
      return [await refusedFile(db, base, undefined, (e as Error).message, opts)];
    throw e;
  }
  if (opts.dryRun) return checkBundle(db, src, label, opts, index);
  const results: IngestFileResult[] = [];
  let importId = opts.importId;
  for (const kind of TDDUI_KINDS) {
    if (index.counts[kind] === 0) continue;
    const key = kindKey(kind, index);
    const { importId: _reserved, ...rest } = opts;
    const r = await ingestRecords(
      db,
      label,
      kind,
      key,
      async () => bundleSource(src, kind, index),
      importId === undefined ? rest : { ...rest, importId },
    );
    importId = undefined;
    results.push(r);
  }
  return results;
}

const kindKey = (kind: TdduiKind, index: BundleIndex) =>
  createHash("sha256").update(`tddui:${kind}:${index.sha256}`).digest("hex");

class BundleChecked extends Error {}

/**
 * A Bundle's check (dry run, issue 16 §2): its kinds imported one after the other in one
 * transaction, each seeing the rows of the ones before it (the projets personnalisés see the
 * Bundle's dossiers), then all rolled back. Each kind's result says what the whole Bundle would
 * change in its table, and the effect on the indicators of its ESSMS (the same for every kind:
 * measured once all kinds are in).
 */
async function checkBundle(
  db: Db,
  src: FileSource,
  label: string,
  opts: IngestOptions,
  index: BundleIndex,
): Promise<IngestFileResult[]> {
  const kinds = TDDUI_KINDS.filter((k) => index.counts[k] > 0);
  const finessOf = new Map<TdduiKind, string[]>();
  const parts: IngestFileResult[] = [];
  const after = new Map<TdduiKind, StateOfEssms>();
  const { importId: _reserved, ...rest } = opts;
  try {
    await db.transaction(async (tx) => {
      const inner = savepointDb(db, tx, ["stage", "file_usager"]);
      for (const kind of kinds)
        parts.push(
          await ingestRecords(
            inner,
            label,
            kind,
            kindKey(kind, index),
            async () => bundleSource(src, kind, index),
            {
              ...rest,
              dryRun: true,
              checkInside: (finess) => finessOf.set(kind, finess),
            },
          ),
        );
      for (const [kind, finess] of finessOf) after.set(kind, await measureState(tx, kind, finess));
      throw new BundleChecked();
    });
  } catch (e) {
    if (!(e instanceof BundleChecked)) throw e;
  }
  // Rolled back: the database is as before; measure it again to tell the difference.
  const out: IngestFileResult[] = [];
  for (const [i, r] of parts.entries()) {
    const kind = kinds[i] as TdduiKind;
    const finess = finessOf.get(kind);
    const state = after.get(kind);
    out.push(
      finess && state
        ? {
            ...r,
            dry_run: true,
            changes: dryRunChanges(await measureState(db, kind, finess), state, r.loaded),
          }
        : { ...r, dry_run: true },
    );
  }
  return out;
}

/**
 * One result for a whole Bundle (the inbox's move, an upload's dry run): rows, loads and
 * rejections added up; loaded when any kind loaded, else refused when any was, else skipped.
 */
export function combineResults(label: string, parts: readonly IngestFileResult[]): IngestFileResult {
  const first = parts[0];
  if (parts.length === 1 && first) return first;
  const status = parts.some((p) => p.status === "loaded")
    ? "loaded"
    : parts.some((p) => p.status === "refused")
      ? "refused"
      : "skipped";
  const messages = parts.filter((p) => p.message).map((p) => `${p.kind ?? "?"} : ${p.message}`);
  return {
    file: label,
    kind: first?.kind ?? null,
    status,
    rows: parts.reduce((n, p) => n + p.rows, 0),
    loaded: parts.reduce((n, p) => n + p.loaded, 0),
    rejected: parts.reduce((n, p) => n + p.rejected, 0),
    errors: parts.flatMap((p) => p.errors),
    ...(parts.some((p) => p.errors_truncated) ? { errors_truncated: true } : {}),
    ...(messages.length > 0 ? { message: messages.join(" ; ") } : {}),
    ...(first?.import_id !== undefined ? { import_id: first.import_id } : {}),
    ...(parts.some((p) => p.dry_run) ? { dry_run: true as const } : {}),
    ...(parts.some((p) => p.changes) ? { changes: combineChanges(parts) } : {}),
  };
}

/**
 * What a Bundle's check says it would change, its kinds together (`checkBundle`): rows added and
 * replaced and statuses per kind's table added up; dossiers, séjours and exits, and the effect on
 * the indicators, measured once the whole Bundle was in (the same for every kind), taken once.
 */
function combineChanges(parts: readonly IngestFileResult[]): DryRunChanges {
  const all = parts.flatMap((p) => (p.changes ? [p.changes] : []));
  const effect = new Map<string, DryRunChanges["effect"][number]>();
  for (const c of all)
    for (const e of c.effect)
      if (!effect.has(`${e.date} ${e.finess}`)) effect.set(`${e.date} ${e.finess}`, e);
  return {
    new_dossiers: Math.max(0, ...all.map((c) => c.new_dossiers)),
    new_sejours: Math.max(0, ...all.map((c) => c.new_sejours)),
    new_exits: Math.max(0, ...all.map((c) => c.new_exits)),
    new_rows: all.reduce((n, c) => n + c.new_rows, 0),
    replacing_rows: all.reduce((n, c) => n + c.replacing_rows, 0),
    statuses: all.flatMap((c) => c.statuses),
    effect: [...effect.values()],
  };
}
