/**
 * The typed API client, derived from the server's contract: each call names an endpoint of
 * api/endpoints.ts (method and path, plain data: the only part of the contract in the bundle) and
 * takes its types from api/contract.ts (type-only import: nothing of zod reaches the bundle).
 * A path and its types are written once; test/unit/dashboard-client.test.ts holds them.
 */
import type { z } from "zod";
import type { Contracts } from "../../api/contract.ts";
import { ENDPOINTS, type EndpointName, endpointUrl } from "../../api/endpoints.ts";
import type * as S from "../../api/schemas.ts";

export type Me = z.infer<typeof S.me>;
export type GrappeSummary = z.infer<typeof S.grappeSummary>;
export type GrappeDetail = z.infer<typeof S.grappeDetail>;
export type Committee = z.infer<typeof S.committee>;
export type Preferences = z.infer<typeof S.preferences>;
export type UserView = z.infer<typeof S.userView>;
type Role = UserView["role"];
export type NotificationList = z.infer<typeof S.notifications>;
export type EssmsDetail = z.infer<typeof S.essmsDetail>;
export type History = z.infer<typeof S.history>;
export type Adjustment = z.infer<typeof S.adjustment>;
export type AdjustmentInView = z.infer<typeof S.adjustmentInView>;
export type AdjustmentFigures = z.infer<typeof S.adjustmentFigures>;
export type AdjustmentEffect = z.infer<typeof S.adjustmentEffect>;
export type SoldeDecision = z.infer<typeof S.soldeDecision>;
export type Piece = z.infer<typeof S.piece>;
export type DryRun = z.infer<typeof S.dryRunResult>;
export type Worklist = z.infer<typeof S.worklist>;
export type EssmsPage = z.infer<typeof S.essmsPage>;
export type WorklistMatch = z.infer<typeof S.worklistMatch>;
export type Action = z.infer<typeof S.action>;
export type ImportRow = z.infer<typeof S.importRow>;
export type Rejection = z.infer<typeof S.rejection>;
export type IngestEntry = z.infer<typeof S.ingestEntry>;
export type UploadAccepted = z.infer<typeof S.uploadAccepted>;
export type ImportDetail = z.infer<typeof S.importDetail>;
export type Snapshot = z.infer<typeof S.snapshot>;
export type SnapshotSummary = z.infer<typeof S.snapshotSummary>;
export type Milestones = z.infer<typeof S.milestones>;

export class ApiProblem extends Error {
  /** a 401 for which the login page was opened (onUnauthenticated): nothing more to tell here */
  signInAsked = false;
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly errors: { field: string; message: string }[] = [],
  ) {
    super(detail);
  }
}

/** What a person reads when the server cannot be reached (never the browser's "Failed to fetch"). */
export const UNREACHABLE = "Le serveur ne répond pas : vérifiez votre connexion, puis réessayez.";

/** What the dashboard does when the server answers 401 (main.ts: the login page, then back here). */
let signInAgain: (problem: ApiProblem) => void = () => {};

/**
 * Sets what happens when a request is refused for want of a session (expired, or never opened):
 * any request but the login itself, wherever it is made (a page, a form, a button).
 */
export function onUnauthenticated(handler: (problem: ApiProblem) => void): void {
  signInAgain = handler;
}

/** The 401 of any request but the login's (whose 401 is a wrong password) opens the login page. */
function unauthenticated(method: string, path: string, problem: ApiProblem): ApiProblem {
  const login = ENDPOINTS.login;
  if (problem.status === 401 && !(method === login.method.toUpperCase() && path === login.path)) {
    problem.signInAsked = true;
    signInAgain(problem);
  }
  return problem;
}

/** `fetch`, a network failure (server down, connection lost) turned into a French ApiProblem (status 0). */
async function send(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, init);
  } catch {
    throw new ApiProblem(0, "reseau", UNREACHABLE);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin", headers: {} };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers = { "content-type": "application/json" };
    init.body = JSON.stringify(body);
  }
  let res = await send(path, init);
  // The embedded database busy with an import answers 503, and the server 429 while this user has
  // enough computations in progress (MAX_CONCURRENT_PER_USER), both with a short Retry-After: wait,
  // try again (a long one, a login lockout, is the answer itself).
  const retryable = (r: Response) =>
    (r.status === 503 || r.status === 429) && (Number(r.headers.get("retry-after")) || 2) <= 10;
  for (let attempt = 0; retryable(res) && attempt < 5; attempt++) {
    const wait = Math.min(Number(res.headers.get("retry-after")) || 2, 10);
    await new Promise((r) => setTimeout(r, wait * 1000));
    res = await send(path, init);
  }
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  if (!res.ok) {
    throw unauthenticated(
      method,
      path,
      new ApiProblem(
        res.status,
        String(data?.code ?? "erreur"),
        String(data?.detail ?? `le serveur a répondu par une erreur (${res.status})`),
        (data?.errors as { field: string; message: string }[]) ?? [],
      ),
    );
  }
  return data as T;
}

/** What an endpoint's contract lets a client send: its path parameters, query and JSON body. */
type Part<N extends EndpointName, K extends "params" | "query" | "body"> = Contracts[N] extends {
  [k in K]: infer T extends z.ZodType;
}
  ? z.input<T>
  : never;
/** The parts an endpoint takes; a part that may be empty (every field optional) may be left out. */
type Input<N extends EndpointName> = {
  [K in "params" | "query" | "body" as Part<N, K> extends never
    ? never
    : Record<string, never> extends Part<N, K>
      ? never
      : K]: Part<N, K>;
} & {
  [K in "params" | "query" | "body" as Part<N, K> extends never
    ? never
    : Record<string, never> extends Part<N, K>
      ? K
      : never]?: Part<N, K>;
};
/** What an endpoint answers (its contract's response schema; a file endpoint has only a URL). */
export type Output<N extends EndpointName> = Contracts[N] extends { response: infer R extends z.ZodType }
  ? z.output<R>
  : never;

type Query = Record<string, string | number | boolean | undefined | null>;
type Params = Record<string, string | number>;

/** The address of an endpoint for these parameters and query (downloads, links). */
export function url<N extends EndpointName>(name: N, input: Omit<Input<N>, "body"> = {} as Input<N>): string {
  const i = input as { params?: Params; query?: Query };
  return endpointUrl(name, i.params, i.query);
}

/**
 * Calls an endpoint: its method and path from api/endpoints.ts, the body sent as JSON, or as a
 * form when it is one (uploads); resolves with the answer typed by the contract, rejects with an
 * ApiProblem (French detail, field errors).
 */
export function request<N extends EndpointName>(
  name: N,
  input: Input<N> | (Omit<Input<N>, "body"> & { form: FormData }) = {} as Input<N>,
): Promise<Output<N>> {
  const i = input as { params?: Params; query?: Query; body?: unknown; form?: FormData };
  return call<Output<N>>(
    ENDPOINTS[name].method.toUpperCase(),
    url(name, i as Omit<Input<N>, "body">),
    i.form ?? i.body,
  );
}

/** A form holding one file in the field `file` (the contract's multipart bodies). */
function withFile(file: File): FormData {
  const form = new FormData();
  form.set("file", file);
  return form;
}

/** The calls the pages make, each one line over `request` (types from the contract). */
export const api = {
  login: (email: string, password: string) => request("login", { body: { email, password } }),
  logout: () => request("logout"),
  me: () => request("me"),
  authMethods: () => request("authMethods"),
  invite: (body: { email: string; role: Role; region?: string | null; grappes?: string[] }) =>
    request("invite", { body }),
  revokeInvitation: (id: number) => request("revokeInvitation", { params: { id } }),
  acceptInvitation: (token: string, password: string) =>
    request("acceptInvitation", { body: { token, password } }),
  users: () => request("users"),
  updateUser: (
    id: number,
    body: { role?: Role; region?: string | null; grappes?: string[]; disabled?: boolean },
  ) => request("updateUser", { params: { id }, body }),
  passwordReset: (email: string) => request("passwordReset", { body: { email } }),
  passwordResetConfirm: (token: string, password: string) =>
    request("passwordResetConfirm", { body: { token, password } }),
  notifications: () => request("notifications"),
  notificationRead: (id: number) => request("notificationRead", { params: { id } }),
  preferences: () => request("preferences"),
  setPreferences: (body: Partial<Preferences>) => request("setPreferences", { body }),
  grappes: (date?: string) => request("grappes", { query: { date } }),
  grappe: (id: string, date?: string) => request("grappe", { params: { grappe_id: id }, query: { date } }),
  milestones: (id: string) => request("milestones", { params: { grappe_id: id } }),
  setMilestone: (
    id: string,
    code: Part<"setMilestone", "params">["code"],
    body: Part<"setMilestone", "body">,
  ) => request("setMilestone", { params: { grappe_id: id, code }, body }),
  addPv: (id: string, code: "va" | "vsr", file: File) =>
    request("addPv", { params: { grappe_id: id, code }, form: withFile(file) }),
  calendarIcsUrl: (id: string) => url("calendarIcs", { params: { grappe_id: id } }),
  createFeed: () => request("createFeed"),
  revokeFeed: () => request("revokeFeed"),
  committee: (id: string, date?: string) =>
    request("committee", { params: { grappe_id: id }, query: { date } }),
  committeePdfUrl: (id: string, date: string) =>
    url("committeePdf", { params: { grappe_id: id }, query: { date } }),
  essms: (finess: string, date?: string) => request("essms", { params: { finess }, query: { date } }),
  history: (finess: string, from?: string, to?: string) =>
    request("history", { params: { finess }, query: { from, to } }),
  adjustments: (grappeId?: string, date?: string) =>
    request("adjustments", { query: { grappe_id: grappeId, date } }),
  propose: (body: Part<"propose", "body">) => request("propose", { body }),
  effect: (body: Part<"effect", "body">, date?: string) => request("effect", { body, query: { date } }),
  addPiece: (id: number, file: File) =>
    request("addPiece", { params: { amenagement_id: id }, form: withFile(file) }),
  pieceUrl: (id: number, pieceId: number) =>
    url("piece", { params: { amenagement_id: id, piece_id: pieceId } }),
  decide: (id: number, decision: Part<"decide", "body">["decision"], comment: string | null) =>
    request("decide", { params: { amenagement_id: id }, body: { decision, comment } }),
  withdraw: (id: number, comment: string | null) =>
    request("withdraw", { params: { amenagement_id: id }, body: { comment } }),
  correct: (id: number, body: Part<"correct", "body">) =>
    request("correct", { params: { amenagement_id: id }, body }),
  actions: (grappeId?: string) => request("actions", { query: { grappe_id: grappeId } }),
  createAction: (body: Part<"createAction", "body">) => request("createAction", { body }),
  updateAction: (id: number, body: Part<"updateAction", "body">) =>
    request("updateAction", { params: { action_id: id }, body }),
  imports: () => request("imports"),
  privacy: () => request("privacy"),
  importDetail: (id: number) => request("importDetail", { params: { import_id: id } }),
  essmsPage: (finess: string, date?: string) => request("essmsPage", { params: { finess }, query: { date } }),
  worklist: (finess: string, indicator: Part<"worklist", "query">["indicator"], date?: string) =>
    request("worklist", { params: { finess }, query: { indicator, date } }),
  worklistMatch: (
    finess: string,
    indicator: Part<"worklist", "query">["indicator"],
    date: string,
    file: File,
  ) => request("worklistMatch", { params: { finess }, query: { indicator, date }, form: withFile(file) }),
  /** The same, as the CSV file (bytes kept as sent: the BOM that Excel needs stays). */
  worklistMatchCsv: async (
    finess: string,
    indicator: Part<"worklist", "query">["indicator"],
    date: string,
    file: File,
  ): Promise<Blob> => {
    const path = url("worklistMatch", { params: { finess }, query: { indicator, date, format: "csv" } });
    const res = await send(path, { method: "POST", credentials: "same-origin", body: withFile(file) });
    if (!res.ok)
      throw unauthenticated(
        "POST",
        path,
        new ApiProblem(res.status, "erreur", `téléchargement refusé (${res.status})`),
      );
    return res.blob();
  },
  check: (file: File, kind?: Part<"upload", "query">["kind"]) =>
    request("upload", { query: { dry_run: "true", kind }, form: withFile(file) }) as Promise<DryRun>,
  upload: (file: File, kind?: Part<"upload", "query">["kind"]) =>
    request("upload", { query: { kind }, form: withFile(file) }) as Promise<UploadAccepted>,
  snapshots: (grappeId: string) => request("snapshots", { params: { grappe_id: grappeId } }),
  freeze: (grappeId: string, date: string) =>
    request("freeze", { params: { grappe_id: grappeId }, body: { date } }),
  snapshot: (grappeId: string, id: number) =>
    request("snapshot", { params: { grappe_id: grappeId, snapshot_id: id } }),
  soldeDecision: (grappeId: string, id: number, body: Part<"soldeDecision", "body">) =>
    request("soldeDecision", { params: { grappe_id: grappeId, snapshot_id: id }, body }),
  decisions: (grappeId: string) => request("decisions", { params: { grappe_id: grappeId } }),
  evidenceUrl: (grappeId: string, id: number) =>
    url("evidence", { params: { grappe_id: grappeId }, query: { snapshot: id } }),
  synthesisPdfUrl: (grappeId: string, id: number) =>
    url("synthesisPdf", { params: { grappe_id: grappeId }, query: { snapshot: id } }),
  reportCsvUrl: (grappeId: string, date: string) =>
    url("reportCsv", { params: { grappe_id: grappeId }, query: { date } }),
  reportXlsxUrl: (grappeId: string, date: string) =>
    url("reportXlsx", { params: { grappe_id: grappeId }, query: { date } }),
};
