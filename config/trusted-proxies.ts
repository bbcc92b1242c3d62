/** TRUSTED_PROXIES: the proxies whose X-Forwarded-For is believed (api/client-address.ts). */
import { BlockList, isIP } from "node:net";
import { DomainError } from "../domain/errors.ts";

export type TrustedProxies = BlockList;

/**
 * Parses TRUSTED_PROXIES (`127.0.0.1, 10.0.0.0/8, ::1`). Throws a French message naming the
 * first entry that is neither an address nor a CIDR block.
 */
export function parseTrustedProxies(spec: string | undefined): TrustedProxies {
  const list = new BlockList();
  for (const raw of (spec ?? "").split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const [addr, bits] = entry.split("/");
    const family = isIP(addr ?? "");
    const prefix = bits === undefined ? null : Number(bits);
    const max = family === 6 ? 128 : 32;
    if (family === 0 || (prefix !== null && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= max)))
      throw new DomainError(
        "validation",
        `TRUSTED_PROXIES : « ${entry} » n'est ni une adresse IP ni un bloc CIDR`,
      );
    const type = family === 6 ? "ipv6" : "ipv4";
    if (prefix === null) list.addAddress(addr as string, type);
    else list.addSubnet(addr as string, prefix, type);
  }
  return list;
}
