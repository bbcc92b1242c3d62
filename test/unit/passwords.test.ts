/**
 * sql/identity.ts: what the product stores for a password. Its hashes cost scrypt N = 2^14 whatever
 * the tests' fixtures use (api-helpers.ts `cheapPasswords` stores cheaper ones for their logins);
 * a hash carries its parameters and verifies under them.
 */
import { describe, expect, it } from "vitest";
import { hashPassword, SCRYPT, verifyPassword } from "../../sql/identity.ts";

describe("password hashes", () => {
  it("cost the product's scrypt (N 2^14, r 8, p 1, 32 bytes) unless a fixture asks less", async () => {
    expect(SCRYPT).toEqual({ N: 16384, r: 8, p: 1, len: 32 });
    const stored = await hashPassword("correct horse battery");
    const [alg, n, r, p, salt, key] = stored.split("$");
    expect([alg, n, r, p]).toEqual(["scrypt", "16384", "8", "1"]);
    expect(Buffer.from(salt as string, "base64")).toHaveLength(16);
    expect(Buffer.from(key as string, "base64")).toHaveLength(32);
  });

  it("verifies a password under the parameters its hash carries, and nothing else", async () => {
    for (const stored of [
      await hashPassword("correct horse battery"),
      await hashPassword("correct horse battery", 1024),
    ]) {
      expect(await verifyPassword("correct horse battery", stored)).toBe(true);
      expect(await verifyPassword("correct horse batterie", stored)).toBe(false);
    }
    expect((await hashPassword("x", 1024)).split("$")[1]).toBe("1024");
    expect(await verifyPassword("x", "bcrypt$whatever")).toBe(false);
  });
});
