/**
 * TDDUI resources as the rows of our kinds (ADR 0014, amended by ADR 0023): the guide's mapping,
 * applied to the entries fhir-read.ts reads (a Bundle's or an NDJSON bulk export's).
 *
 * - `TDDUIPatient` / `TDDUIPatientINS`: only the local identifier (`identifier[PI]`, system
 *   `https://identifiant-medicosocial-localusager.esante.gouv.fr`, « 3+FINESS/local ») — never
 *   the INS, names, birth date or address; `meta.lastUpdated` → `dossier_maj`;
 * - `TDDUIOrganization`: `identifier[idNatSt]` (`urn:oid:1.2.250.1.71.4.2.2`, « 1 » + FINESS);
 * - `TDDUIEncounterSejour` → `dossiers`; `TDDUIEncounterEvenement` → `agenda`;
 *   `TDDUICarePlanProjetPersonnalise` → `projets_personnalises`.
 *
 * References (exports.md §6): `subject` and `serviceProvider` are read whether they point to an
 * entry (`urn:uuid:…`, `Patient/id`, an absolute URL, `…/_history/n`), to a resource contained in
 * the one that refers (`#id`), or carry the identifier itself (`subject.identifier` with the local
 * usager system). A reference that leads nowhere rejects the row (« référence introuvable »); a
 * key repeated in what is read of an entry (or of the Patient or Organization it points to)
 * rejects it too (« clé JSON en double »): a repeated `status` or `subject` is never read last-wins.
 *
 * The first pass (`indexBundle`) keeps, per Patient and Organization reference, the few strings read
 * from them (entries are not ordered: an encounter may come before its patient), counts the kinds
 * present and whether any resource carries an update trace; then one pass per kind (`bundleSource`).
 */
import { createHash } from "node:crypto";
import { parseParisDay } from "../domain/dates.ts";
import type { IngestWarning } from "../domain/ingest-warnings.ts";
import type { RejectionReason } from "../domain/rejections.ts";
import { type ContentLimits, probeContent } from "./content.ts";
import type { CsvRecord, CsvSource } from "./csv.ts";
import {
  BundleRefused,
  type BundleTop,
  type Entry,
  type FhirFile,
  type FhirSource,
  fhirEntries,
} from "./fhir-read.ts";
import { KIND_DEFS } from "./kinds.ts";
import type { FileSource } from "./result.ts";

/** Canonical URL of the guide's profiles (`https://interop.esante.gouv.fr/ig/fhir/tddui/StructureDefinition/<id>`). */
export const TDDUI_PROFILE_BASE = "https://interop.esante.gouv.fr/ig/fhir/tddui/StructureDefinition/";

/** The kinds a TDDUI source feeds, in the order they are imported. */
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

/** The last segment of each `meta.profile` (version suffix `|x.y.z` removed), lower case. */
export function profileIds(resource: Json | null): string[] {
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
  if (type === "Patient") return "patient";
  if (type === "Organization") return "organization";
  if (type === "CarePlan") return "careplan";
  if (type !== "Encounter") return null;
  const ids = profileIds(resource);
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

/** A usager as read from its Patient (or a subject's identifier): the local identifier and its FINESS. */
interface Usager {
  local: string | null;
  finess: string | null;
  /** JSON path of a key repeated in what was read of its Patient, or null */
  duplicate: string | null;
}

/** An Organization as read: its FINESS, and a key repeated in it. */
interface Organization {
  finess: string | null;
  duplicate: string | null;
}

/** The usager's local identifier in an identifier (never the INS): « 3+FINESS/local » split. */
function localIdentifier(id: Json | null): Usager | null {
  const codes = arr(obj(id?.type)?.coding).map((c) => str(obj(c)?.code));
  if (str(id?.system) !== LOCAL_USAGER_SYSTEM && !codes.includes("PI") && !codes.includes("PLI")) return null;
  const value = str(id?.value)?.trim();
  if (!value) return null;
  const m = FINESS_PREFIX.exec(value);
  return { local: m ? (m[2] as string) : value, finess: m ? (m[1] as string) : null, duplicate: null };
}

/** A Patient's usager: its first local identifier, else none. */
function usagerOf(patient: Json, duplicate: string | null): Usager {
  for (const id of arr(patient.identifier)) {
    const u = localIdentifier(obj(id));
    if (u) return { ...u, duplicate };
  }
  return { local: null, finess: null, duplicate };
}

/** The FINESS of an Organization: `identifier[idNatSt]` « 1 » + FINESS (or the FINESS alone). */
function finessOfIdentifier(raw: unknown): string | null {
  const id = obj(raw);
  const codes = arr(obj(id?.type)?.coding).map((c) => str(obj(c)?.code));
  if (str(id?.system) !== ID_NAT_STRUCT_SYSTEM && !codes.includes("IDNST")) return null;
  const v = str(id?.value)?.trim() ?? "";
  if (/^1(\d{9}|2[AB]\d{7})$/.test(v)) return v.slice(1);
  if (/^(\d{9}|2[AB]\d{7})$/.test(v)) return v;
  return null;
}

function finessOfOrganization(org: Json): string | null {
  for (const raw of arr(org.identifier)) {
    const f = finessOfIdentifier(raw);
    if (f) return f;
  }
  return null;
}

/** What the first pass keeps: the usagers and organisations by reference, the kinds present. */
export interface BundleIndex {
  /** the idempotency key's base: the content's sha256 (a bulk export: its files' together) */
  sha256: string;
  usagers: Map<string, Usager>;
  organizations: Map<string, Organization>;
  /** séjour reference → its serviceProvider (an événement's FINESS, through partOf) */
  sejourProviders: Map<string, unknown>;
  /** the only organisation of the source with a FINESS, when there is exactly one */
  soleFiness: string | null;
  counts: Record<TdduiKind, number>;
  /** resources read (usagers, séjours, événements, projets) that carry `meta.lastUpdated` */
  traced: number;
}

/** Whether a resource carries an update trace (R-P3: `meta.lastUpdated`). */
function lastUpdatedOf(r: Json | null): unknown {
  return obj(r?.meta)?.lastUpdated;
}

const BUNDLE_PROFILE = "tddui-bundle";

/** Adds one entry to the index (its references, its kind, its trace). */
function indexEntry(index: BundleIndex, e: Entry, finessOfOrgs: Set<string>): void {
  const r = e.resource;
  const role = roleOf(r);
  if (role === null) return;
  if (str(lastUpdatedOf(r))) index.traced += 1;
  switch (role) {
    case "patient": {
      const u = usagerOf(r as Json, e.duplicate);
      for (const k of refKeys(e)) index.usagers.set(k, u);
      if (str(lastUpdatedOf(r))) index.counts.dossier_maj += 1;
      break;
    }
    case "organization": {
      const f = finessOfOrganization(r as Json);
      if (f) finessOfOrgs.add(f);
      for (const k of refKeys(e)) index.organizations.set(k, { finess: f, duplicate: e.duplicate });
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
  }
}

/**
 * The first pass: checks that the source is a TDDUI Bundle (refused otherwise, in French) and
 * indexes it. `sha256` is its content's (the probe's).
 */
export async function indexBundle(
  source: FhirSource,
  sha256: string,
  limits: ContentLimits = {},
): Promise<BundleIndex> {
  const top: BundleTop = {};
  const index: BundleIndex = {
    sha256,
    usagers: new Map(),
    organizations: new Map(),
    sejourProviders: new Map(),
    soleFiness: null,
    counts: { dossiers: 0, dossier_maj: 0, projets_personnalises: 0, agenda: 0 },
    traced: 0,
  };
  const finessOfOrgs = new Set<string>();
  for await (const batch of fhirEntries(source, top, limits))
    for (const e of batch) indexEntry(index, e, finessOfOrgs);
  if (source.form === "bundle") {
    if (top.resourceType !== "Bundle")
      throw new BundleRefused(
        // Never the file's own text in a message: only whether the field is there.
        `le fichier JSON n'est pas un Bundle FHIR (resourceType ${typeof top.resourceType === "string" ? "autre que Bundle" : "absent"}) : seuls les Bundles TDDUI sont lus`,
      );
    if (!profileIds({ meta: top.meta }).includes(BUNDLE_PROFILE))
      throw new BundleRefused(
        `le Bundle ne déclare pas le profil TDDUIBundle (meta.profile ${TDDUI_PROFILE_BASE}${BUNDLE_PROFILE}) : seuls les Bundles du guide « Médicosocial – Transfert de données DUI » sont lus`,
      );
  }
  if (TDDUI_KINDS.every((k) => index.counts[k] === 0))
    throw new BundleRefused(
      `${source.form === "bundle" ? "le Bundle TDDUI" : "l'export FHIR (NDJSON)"} ne contient ni séjour (TDDUIEncounterSejour), ni évènement (TDDUIEncounterEvenement), ni projet personnalisé (TDDUICarePlanProjetPersonnalise), ni usager daté (meta.lastUpdated) : rien à importer`,
    );
  index.soleFiness = finessOfOrgs.size === 1 ? ([...finessOfOrgs][0] as string) : null;
  return index;
}

/**
 * What the summary warns about (exports.md §6): no resource carries `meta.lastUpdated`, the only
 * update trace a Bundle has (R-P3): its dossiers load, but none can be active.
 */
export function bundleWarnings(summary: FhirSummary): IngestWarning[] {
  return summary.traced === 0 && summary.counts.dossiers > 0
    ? [{ kind: "sans_trace", count: summary.counts.dossiers }]
    : [];
}

/** What the import of a source needs of its index: its key, the kinds it holds, its traces. */
export type FhirSummary = Pick<BundleIndex, "sha256" | "counts" | "traced">;

export function summaryOf({ index }: FhirRead): FhirSummary {
  return { sha256: index.sha256, counts: index.counts, traced: index.traced };
}

/** A row being built: its cells and where each came from, in the kind's column order. */
class RowBuilder {
  readonly fields: string[];
  readonly rel: string[];
  /** why the row is rejected whatever its cells say (a repeated key, a reference leading nowhere) */
  fault: { reason: RejectionReason; column: string } | undefined;
  constructor(private readonly columns: readonly string[]) {
    this.fields = columns.map(() => "");
    this.rel = [...columns];
  }
  set(column: string, value: string, at: string): void {
    const i = this.columns.indexOf(column);
    this.fields[i] = value;
    this.rel[i] = at;
  }
  reject(reason: RejectionReason, column: string): void {
    this.fault ??= { reason, column };
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

/** The resource contained in `r` with this id (`#id`) and role, with its index in `contained`. */
function containedOf(r: Json, id: string, role: Role): { resource: Json; at: number } | null {
  const list = arr(r.contained);
  for (let i = 0; i < list.length; i++) {
    const c = obj(list[i]);
    if (c && str(c.id) === id && roleOf(c) === role) return { resource: c, at: i };
  }
  return null;
}

/** Where a reference leads, in the index or among the resource's contained ones. */
type Resolved<T> = { found: T } | { dangling: string } | { absent: true };

/** The usager `subject` names: an entry, a contained Patient, or the local identifier it carries. */
function subjectOf(r: Json, index: BundleIndex): Resolved<Usager> {
  const subject = obj(r.subject);
  if (!subject) return { absent: true };
  const ref = str(subject.reference)?.trim() ?? "";
  if (ref !== "") {
    if (ref.startsWith("#")) {
      const c = containedOf(r, ref.slice(1), "patient");
      if (c) return { found: usagerOf(c.resource, null) };
    } else {
      const u = index.usagers.get(ref) ?? index.usagers.get(tail(ref));
      if (u) return { found: u };
    }
  }
  const byId = localIdentifier(obj(subject.identifier));
  if (byId) return { found: byId };
  if (ref !== "") return { dangling: "subject.reference" };
  return subject.identifier !== undefined ? { dangling: "subject.identifier" } : { absent: true };
}

/** The organisation a reference names: an entry, a contained Organization, or its own identifier. */
function organizationOf(r: Json, reference: unknown, index: BundleIndex): Organization | undefined {
  const ref = obj(reference);
  if (!ref) return undefined;
  const to = str(ref.reference)?.trim() ?? "";
  if (to.startsWith("#")) {
    const c = containedOf(r, to.slice(1), "organization");
    if (c) return { finess: finessOfOrganization(c.resource), duplicate: null };
  } else if (to !== "") {
    const o = index.organizations.get(to) ?? index.organizations.get(tail(to));
    if (o) return o;
  }
  const f = finessOfIdentifier(ref.identifier);
  return f ? { finess: f, duplicate: null } : undefined;
}

/**
 * The row's FINESS, first found: the `serviceProvider` organisation (through `partOf` for an
 * événement), the « 3+FINESS/… » prefix of the resource's identifier, the usager's local
 * identifier, the source's only organisation.
 */
function finessOf(
  row: RowBuilder,
  r: Json,
  index: BundleIndex,
  id: { value: string; at: string },
  usager: Usager | undefined,
): { value: string; at: string } {
  const provider = organizationOf(r, r.serviceProvider, index);
  if (provider?.duplicate) row.reject("cle_json_en_double", provider.duplicate);
  if (provider?.finess) return { value: provider.finess, at: "serviceProvider" };
  const partOf = obj(r.partOf);
  const ref = str(partOf?.reference) ?? "";
  const viaSejour = index.sejourProviders.get(ref) ?? index.sejourProviders.get(tail(ref));
  const sejourProvider = viaSejour === undefined ? undefined : organizationOf(r, viaSejour, index);
  if (sejourProvider?.finess) return { value: sejourProvider.finess, at: "partOf" };
  const fromId = FINESS_PREFIX.exec(id.value.trim());
  if (fromId) return { value: fromId[1] as string, at: id.at };
  if (usager?.finess) return { value: usager.finess, at: "subject" };
  if (index.soleFiness) return { value: index.soleFiness, at: "serviceProvider" };
  return { value: "", at: obj(r.serviceProvider) ? "serviceProvider" : "identifier" };
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
 * The cells every kind's row starts with: its FINESS, its usager (a reference leading nowhere
 * rejects the row), and the DUI's own number from the resource's business identifier.
 */
function identify(
  row: RowBuilder,
  e: Entry,
  r: Json,
  index: BundleIndex,
  o: { code: string; hint: string; tag: string; column: string },
): void {
  const subject = subjectOf(r, index);
  const usager = "found" in subject ? subject.found : undefined;
  if ("dangling" in subject) row.reject("reference_introuvable", `${e.base}.${subject.dangling}`);
  if (usager?.duplicate) row.reject("cle_json_en_double", usager.duplicate);
  const id = businessId(r, o.code, o.hint);
  const f = finessOf(row, r, index, id, usager);
  row.set("finess", f.value, f.at);
  row.set("usager_id", usager?.local ?? "", "subject");
  row.set(o.column, id.value === "" ? "" : dossierNumber(id.value, o.tag), id.at);
}

/** One row of `kind` from an entry, or null when the entry is not of that kind. */
function rowOf(e: Entry, kind: TdduiKind, index: BundleIndex): RowBuilder | null {
  const r = e.resource;
  if (!r) return null;
  const role = roleOf(r);
  const row = new RowBuilder(KIND_DEFS[kind].columns);
  // A key repeated in what is read of the entry: none of its values can be chosen (exports.md §6).
  if (e.duplicate) row.reject("cle_json_en_double", e.duplicate);
  const lastUpdated = lastUpdatedOf(r);
  const period = obj(r.period);
  if (kind === "dossier_maj") {
    if (role !== "patient" || !str(lastUpdated)) return null;
    const u = usagerOf(r, null);
    row.set("finess", u.finess ?? index.soleFiness ?? "", "identifier");
    row.set("usager_id", u.local ?? "", "identifier");
    row.set("date_maj", cell(lastUpdated), "meta.lastUpdated");
    return row;
  }
  if (kind === "dossiers") {
    if (role !== "sejour") return null;
    identify(row, e, r, index, { code: "SEJ", hint: "sejour", tag: "SEJOUR", column: "sejour_id" });
    row.set("date_entree", dayCell(period?.start), "period.start");
    row.set("date_sortie", dayCell(period?.end), "period.end");
    row.set("date_derniere_maj", cell(lastUpdated), "meta.lastUpdated");
    return row;
  }
  if (kind === "agenda") {
    if (role !== "evenement") return null;
    identify(row, e, r, index, { code: "EVN", hint: "evenement", tag: "EVN", column: "evenement_id" });
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
  identify(row, e, r, index, { code: "PPER", hint: "projetpersonnalise", tag: "PPER", column: "pp_id" });
  row.set("statut", statusCell(CAREPLAN_STATUS, r.status), "status");
  row.set("date_creation", cell(r.created), "created");
  row.set("date_debut", dayCell(period?.start), "period.start");
  row.set("date_fin", dayCell(period?.end), "period.end");
  row.set("date_maj", cell(lastUpdated), "meta.lastUpdated");
  return row;
}

/** The rows of one kind as a CSV source (header: the kind's canonical columns), streamed. */
export function bundleSource(
  source: FhirSource,
  kind: TdduiKind,
  index: BundleIndex,
  limits: ContentLimits = {},
): CsvSource {
  const columns = [...KIND_DEFS[kind].columns];
  const entries = fhirEntries(source, {}, limits);
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
              where: { base: e.base, rel: row.rel },
              ...(row.fault ? { fault: row.fault } : {}),
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

/** A FHIR source before it is probed: a Bundle file, or the NDJSON files of one bulk export. */
export interface FhirInput {
  form: "bundle" | "ndjson";
  files: { src: FileSource; label: string }[];
}

/** What reading a FHIR source first gives: its files probed (encoding, gzip) and its index. */
export interface FhirRead {
  source: FhirSource;
  index: BundleIndex;
}

/**
 * Probes each file (content.ts: bounded, decompressed, its encoding told) and indexes the source;
 * throws BundleRefused or a `file_refused` DomainError (French) when it is not read.
 */
export async function probeAndIndex(input: FhirInput, limits: ContentLimits = {}): Promise<FhirRead> {
  const files: FhirFile[] = [];
  const hashes: string[] = [];
  for (const f of input.files) {
    const named = input.files.length > 1 ? `${f.label} : ` : "";
    const p = await probeContent(f.src, limits);
    if (p.bytes === 0) throw new BundleRefused(`${named}fichier vide`);
    if (!p.isText) throw new BundleRefused(`${named}le fichier n'est pas un fichier texte (JSON attendu)`);
    files.push({ src: f.src, label: f.label, encoding: p.encoding, gzip: p.gzip });
    hashes.push(p.sha256);
  }
  const source: FhirSource =
    input.form === "bundle" ? { form: "bundle", file: files[0] as FhirFile } : { form: "ndjson", files };
  // A bulk export's content is its files' together, in their order.
  const sha256 =
    input.form === "bundle"
      ? (hashes[0] as string)
      : createHash("sha256")
          .update(`ndjson:${hashes.join(",")}`)
          .digest("hex");
  return { source, index: await indexBundle(source, sha256, limits) };
}
