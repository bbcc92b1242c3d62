/**
 * Typed API client. Types come from the server's zod schemas (api/schemas.ts, type-only import:
 * nothing of zod reaches the bundle); the endpoint list is checked against /api/openapi.json by
 * a test (test/dashboard-client.test.ts).
 */
import type { z } from "zod";
import type * as S from "../../api/schemas.ts";

export type Me = z.infer<typeof S.me>;
export type GrappeSummary = z.infer<typeof S.grappeSummary>;
export type GrappeDetail = z.infer<typeof S.grappeDetail>;
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
export type ImportDetail = ImportRow & { progress?: { rows_read: number }; rejections: Rejection[] };
export type Snapshot = z.infer<typeof S.snapshot>;
export type SnapshotSummary = z.infer<typeof S.snapshotSummary>;

export class ApiProblem extends Error {
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
  // The embedded database busy with an import answers 503 with Retry-After: wait, try again.
  for (let attempt = 0; res.status === 503 && attempt < 3; attempt++) {
    const wait = Math.min(Number(res.headers.get("retry-after")) || 2, 10);
    await new Promise((r) => setTimeout(r, wait * 1000));
    res = await send(path, init);
  }
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  if (!res.ok) {
    throw new ApiProblem(
      res.status,
      String(data?.code ?? "erreur"),
      String(data?.detail ?? `le serveur a répondu par une erreur (${res.status})`),
      (data?.errors as { field: string; message: string }[]) ?? [],
    );
  }
  return data as T;
}

const q = (params: Record<string, string | undefined>) => {
  const s = new URLSearchParams(
    Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined),
  ).toString();
  return s ? `?${s}` : "";
};

/** Every endpoint the dashboard uses: [method, OpenAPI path]. */
export const ENDPOINTS = {
  login: ["post", "/api/session"],
  logout: ["delete", "/api/session"],
  me: ["get", "/api/me"],
  grappes: ["get", "/api/grappes"],
  grappe: ["get", "/api/grappes/{grappe_id}"],
  essms: ["get", "/api/essms/{finess}"],
  history: ["get", "/api/essms/{finess}/history"],
  worklist: ["get", "/api/essms/{finess}/worklist"],
  essmsPage: ["get", "/api/essms/{finess}/page"],
  worklistMatch: ["post", "/api/essms/{finess}/worklist/match"],
  adjustments: ["get", "/api/adjustments"],
  propose: ["post", "/api/adjustments"],
  effect: ["post", "/api/adjustments/effect"],
  decide: ["post", "/api/adjustments/{amenagement_id}/decision"],
  addPiece: ["post", "/api/adjustments/{amenagement_id}/pieces"],
  piece: ["get", "/api/adjustments/{amenagement_id}/pieces/{piece_id}"],
  actions: ["get", "/api/corrective-actions"],
  createAction: ["post", "/api/corrective-actions"],
  updateAction: ["patch", "/api/corrective-actions/{action_id}"],
  imports: ["get", "/api/imports"],
  importDetail: ["get", "/api/imports/{import_id}"],
  upload: ["post", "/api/imports"],
  snapshots: ["get", "/api/grappes/{grappe_id}/snapshots"],
  freeze: ["post", "/api/grappes/{grappe_id}/snapshots"],
  snapshot: ["get", "/api/grappes/{grappe_id}/snapshots/{snapshot_id}"],
  soldeDecision: ["post", "/api/grappes/{grappe_id}/snapshots/{snapshot_id}/decision"],
  decisions: ["get", "/api/grappes/{grappe_id}/decisions"],
  evidence: ["get", "/api/grappes/{grappe_id}/evidence"],
  synthesisPdf: ["get", "/api/grappes/{grappe_id}/synthesis.pdf"],
  reportCsv: ["get", "/api/grappes/{grappe_id}/report.csv"],
  reportXlsx: ["get", "/api/grappes/{grappe_id}/report.xlsx"],
} as const;

const e = encodeURIComponent;

export const api = {
  login: (email: string, password: string) => call<Me>("POST", "/api/session", { email, password }),
  logout: () => call<void>("DELETE", "/api/session"),
  me: () => call<Me>("GET", "/api/me"),
  grappes: (date?: string) => call<GrappeSummary[]>("GET", `/api/grappes${q({ date })}`),
  grappe: (id: string, date?: string) => call<GrappeDetail>("GET", `/api/grappes/${e(id)}${q({ date })}`),
  essms: (finess: string, date?: string) => call<EssmsDetail>("GET", `/api/essms/${e(finess)}${q({ date })}`),
  history: (finess: string, from?: string, to?: string) =>
    call<History>("GET", `/api/essms/${e(finess)}/history${q({ from, to })}`),
  adjustments: (grappeId?: string, date?: string) =>
    call<AdjustmentInView[]>("GET", `/api/adjustments${q({ grappe_id: grappeId, date })}`),
  propose: (body: Record<string, unknown>) => call<Adjustment>("POST", "/api/adjustments", body),
  effect: (body: Record<string, unknown>, date?: string) =>
    call<AdjustmentFigures>("POST", `/api/adjustments/effect${q({ date })}`, body),
  addPiece: (id: number, file: File) => {
    const form = new FormData();
    form.set("file", file);
    return call<Piece>("POST", `/api/adjustments/${id}/pieces`, form);
  },
  pieceUrl: (id: number, pieceId: number) => `/api/adjustments/${id}/pieces/${pieceId}`,
  decide: (id: number, decision: string, comment: string | null) =>
    call<Adjustment>("POST", `/api/adjustments/${id}/decision`, { decision, comment }),
  actions: (grappeId?: string) =>
    call<Action[]>("GET", `/api/corrective-actions${q({ grappe_id: grappeId })}`),
  createAction: (body: Record<string, unknown>) => call<Action>("POST", "/api/corrective-actions", body),
  updateAction: (id: number, body: Record<string, unknown>) =>
    call<Action>("PATCH", `/api/corrective-actions/${id}`, body),
  imports: () => call<ImportRow[]>("GET", "/api/imports"),
  importDetail: (id: number) => call<ImportDetail>("GET", `/api/imports/${id}`),
  essmsPage: (finess: string, date?: string) =>
    call<EssmsPage>("GET", `/api/essms/${e(finess)}/page${q({ date })}`),
  worklist: (finess: string, indicator: string, date?: string) =>
    call<Worklist>("GET", `/api/essms/${e(finess)}/worklist${q({ indicator, date })}`),
  worklistMatch: (finess: string, indicator: string, date: string, file: File) => {
    const form = new FormData();
    form.set("file", file);
    return call<WorklistMatch>(
      "POST",
      `/api/essms/${e(finess)}/worklist/match${q({ indicator, date })}`,
      form,
    );
  },
  /** The same, as the CSV file (bytes kept as sent: the BOM that Excel needs stays). */
  worklistMatchCsv: async (finess: string, indicator: string, date: string, file: File): Promise<Blob> => {
    const form = new FormData();
    form.set("file", file);
    const res = await send(`/api/essms/${e(finess)}/worklist/match${q({ indicator, date, format: "csv" })}`, {
      method: "POST",
      credentials: "same-origin",
      body: form,
    });
    if (!res.ok) throw new ApiProblem(res.status, "erreur", `téléchargement refusé (${res.status})`);
    return res.blob();
  },
  check: (file: File) => {
    const form = new FormData();
    form.set("file", file);
    return call<DryRun>("POST", "/api/imports?dry_run=true", form);
  },
  upload: (file: File) => {
    const form = new FormData();
    form.set("file", file);
    return call<UploadAccepted>("POST", "/api/imports", form);
  },
  snapshots: (grappeId: string) => call<SnapshotSummary[]>("GET", `/api/grappes/${e(grappeId)}/snapshots`),
  freeze: (grappeId: string, date: string) =>
    call<Snapshot>("POST", `/api/grappes/${e(grappeId)}/snapshots`, { date }),
  snapshot: (grappeId: string, id: number) =>
    call<Snapshot>("GET", `/api/grappes/${e(grappeId)}/snapshots/${id}`),
  soldeDecision: (
    grappeId: string,
    id: number,
    body: {
      eligible: boolean;
      comment: string | null;
      replaces_decision_id: number | null;
      replacement_reason: string | null;
    },
  ) => call<SoldeDecision>("POST", `/api/grappes/${e(grappeId)}/snapshots/${id}/decision`, body),
  decisions: (grappeId: string) => call<SoldeDecision[]>("GET", `/api/grappes/${e(grappeId)}/decisions`),
  evidenceUrl: (grappeId: string, id: number) => `/api/grappes/${e(grappeId)}/evidence?snapshot=${id}`,
  synthesisPdfUrl: (grappeId: string, id: number) =>
    `/api/grappes/${e(grappeId)}/synthesis.pdf?snapshot=${id}`,
  reportCsvUrl: (grappeId: string, date: string) => `/api/grappes/${e(grappeId)}/report.csv${q({ date })}`,
  reportXlsxUrl: (grappeId: string, date: string) => `/api/grappes/${e(grappeId)}/report.xlsx${q({ date })}`,
};
