/**
 * One contract (issue 28 §5): each endpoint's method and path are written once (api/endpoints.ts),
 * its schemas once (api/contract.ts); the server mounts exactly one handler per endpoint, the
 * OpenAPI document is generated from the contract, and the dashboard's client builds its
 * addresses from the same table.
 */
import { describe, expect, it } from "vitest";
import { CONTRACTS } from "../../api/contract.ts";
import { ENDPOINTS, endpointUrl } from "../../api/endpoints.ts";
import { openapiDocument } from "../../api/registry.ts";
import { ROUTES } from "../../api/routes/index.ts";
import { api, url } from "../../dashboard/src/api.ts";

describe("the API's contract and the dashboard's client", () => {
  it("mounts one handler per endpoint, no more, no less", () => {
    const handled = ROUTES.map((r) => r.contract.name).sort();
    expect(handled).toEqual(Object.keys(ENDPOINTS).sort());
    expect(new Set(handled).size).toBe(handled.length);
    for (const r of ROUTES) expect(r.contract).toBe(CONTRACTS[r.contract.name]);
  });

  it("publishes every endpoint in the OpenAPI document, with its method", () => {
    const doc = openapiDocument(Object.values(CONTRACTS)) as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const [name, { method, path }] of Object.entries(ENDPOINTS))
      expect(doc.paths[path]?.[method], `${name}: ${method.toUpperCase()} ${path}`).toBeDefined();
  });

  it("builds addresses from the endpoint table: parameters encoded, empty query values left out", () => {
    expect(url("grappe", { params: { grappe_id: "G 1/é" }, query: { date: "2025-07-01" } })).toBe(
      "/api/grappes/G%201%2F%C3%A9?date=2025-07-01",
    );
    expect(url("grappes", { query: { date: undefined } })).toBe("/api/grappes");
    expect(api.evidenceUrl("T1", 3)).toBe("/api/grappes/T1/evidence?snapshot=3");
    expect(api.pieceUrl(4, 9)).toBe("/api/adjustments/4/pieces/9");
    expect(() => endpointUrl("grappe", {})).toThrow(/paramètre manquant : grappe_id/);
  });
});
