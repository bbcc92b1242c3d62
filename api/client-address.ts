/**
 * Who is on the other end of a request, for login throttling: the socket's address, or, only
 * when that socket belongs to a trusted proxy (TRUSTED_PROXIES: addresses or CIDR blocks), the
 * right-most address of `X-Forwarded-For` that is not itself a trusted proxy. Any client can
 * write `X-Forwarded-For`: it is never believed from an untrusted peer.
 */

import { isIP } from "node:net";
import type { TrustedProxies } from "../config/trusted-proxies.ts";

export { parseTrustedProxies, type TrustedProxies } from "../config/trusted-proxies.ts";

/**
 * An address as a hop writes it, reduced to the address: `::ffff:1.2.3.4` → `1.2.3.4`,
 * `1.2.3.4:5678` → `1.2.3.4`, `[2001:db8::1]:443` → `2001:db8::1` (proxies that append ports).
 */
function normalise(address: string): string {
  let a = address.trim();
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::\d+)?$/.exec(a);
  if (bracketed) a = bracketed[1] as string;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(":"));
  return a.startsWith("::ffff:") && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

/** True when the request's socket peer is one of the trusted proxies (its headers may be believed). */
export function fromTrustedProxy(socketAddress: string | undefined, proxies: TrustedProxies): boolean {
  return socketAddress !== undefined && trusted(proxies, socketAddress);
}

function trusted(list: TrustedProxies, address: string): boolean {
  const a = normalise(address);
  const family = isIP(a);
  return family !== 0 && list.check(a, family === 6 ? "ipv6" : "ipv4");
}

/**
 * The client's address: `socketAddress` (undefined for in-process requests: "inconnue"), or the
 * client named by the trusted proxies in `forwardedFor`.
 */
export function clientAddress(
  socketAddress: string | undefined,
  forwardedFor: string | undefined,
  proxies: TrustedProxies,
): string {
  if (!socketAddress) return "inconnue";
  let client = normalise(socketAddress);
  if (!trusted(proxies, client) || !forwardedFor) return client;
  const hops = forwardedFor
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalise(hops[i] as string);
    if (isIP(hop) === 0) return client; // garbage: stop at the last address we could trust
    client = hop;
    if (!trusted(proxies, hop)) return hop;
  }
  return client;
}
