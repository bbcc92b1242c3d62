/** The dashboard's API client is checked against the OpenAPI document the server publishes. */
import { describe, expect, it } from "vitest";
import { openapiDocument } from "../api/registry.ts";
import { ROUTES } from "../api/routes/index.ts";
import { ENDPOINTS } from "../dashboard/src/api.ts";

describe("dashboard API client", () => {
  it("calls only operations that the OpenAPI document declares", () => {
    const doc = openapiDocument(ROUTES) as { paths: Record<string, Record<string, unknown>> };
    // the session routes live outside the registry (login is public, logout is in the matrix)
    const session = new Set(["post /api/session", "delete /api/session"]);
    for (const [name, [method, path]] of Object.entries(ENDPOINTS)) {
      if (session.has(`${method} ${path}`)) continue;
      expect(doc.paths[path]?.[method], `${name}: ${method.toUpperCase()} ${path}`).toBeDefined();
    }
  });
});
