/**
 * Sign-in with ProConnect (issue 32 §4): OpenID Connect, authorization code with PKCE, state and
 * nonce, through `openid-client` (the certified relying-party library). The identity is matched to
 * an existing account, or an open invitation, by its e-mail address as the provider gives it
 * (`email_verified` false is refused); no account → refused, nobody signs themselves up. Plain
 * HTTP to the provider only for a provider on this machine (tests), refused for any other host.
 */
import type * as Client from "openid-client";
import type { Db } from "../db/index.ts";
import { DomainError } from "../domain/errors.ts";
import { touchLastLogin } from "../sql/accounts.ts";
import { audit } from "../sql/audit.ts";
import { accountByEmail, insertSession, insertUser, type Principal, principalOf } from "../sql/identity.ts";

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
}

const LOCAL = new Set(["127.0.0.1", "localhost", "[::1]"]);

const configs = new Map<string, Promise<Client.Configuration>>();

/** openid-client, loaded when ProConnect is used: a server without it never carries it. */
const lib = () => import("openid-client");

/** The provider's configuration, discovered once per issuer. */
export function providerConfig(s: OidcSettings): Promise<Client.Configuration> {
  const key = `${s.issuer}|${s.clientId}`;
  let c = configs.get(key);
  if (!c) {
    const url = new URL(s.issuer);
    if (url.protocol !== "https:" && !LOCAL.has(url.hostname))
      throw new DomainError(
        "validation",
        "OIDC_ISSUER : https:// obligatoire (http seulement pour un fournisseur sur cette machine)",
      );
    c = lib().then((client) =>
      client.discovery(url, s.clientId, s.clientSecret, undefined, {
        ...(url.protocol === "http:" ? { execute: [client.allowInsecureRequests] } : {}),
      }),
    );
    c.catch(() => configs.delete(key));
    configs.set(key, c);
  }
  return c;
}

/** What the sign-in keeps between the redirect and the callback (in a signed cookie). */
export interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  /** the dashboard's route to come back to */
  back: string;
}

/** The provider's authorization URL for a new sign-in, and what to keep for its callback. */
export async function startLogin(
  s: OidcSettings,
  redirectUri: string,
  back: string,
): Promise<{ url: URL; pending: PendingLogin }> {
  const [config, client] = await Promise.all([providerConfig(s), lib()]);
  const verifier = client.randomPKCECodeVerifier();
  const pending = { state: client.randomState(), nonce: client.randomNonce(), verifier, back };
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: "openid email given_name usual_name",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state: pending.state,
    nonce: pending.nonce,
    acr_values: "eidas1",
  });
  return { url, pending };
}

/**
 * Completes a sign-in from the provider's callback: the code exchanged (PKCE), the state and the
 * nonce checked by the library, the identity matched by e-mail. Returns the session's token, the
 * person and the ID token (for the provider's logout). Errors in French: 400 a callback that does
 * not match its sign-in (state, nonce, code); 403 no account for this identity.
 */
export async function finishLogin(
  db: Db,
  s: OidcSettings,
  currentUrl: URL,
  pending: PendingLogin,
): Promise<{ token: string; principal: Principal; idToken: string }> {
  const [config, client] = await Promise.all([providerConfig(s), lib()]);
  let tokens: Awaited<ReturnType<typeof Client.authorizationCodeGrant>>;
  try {
    tokens = await client.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
  } catch {
    throw new DomainError(
      "bad_request",
      "la réponse du fournisseur d'identité ne correspond pas à cette connexion (état, nonce ou code invalide) : recommencez",
    );
  }
  // The e-mail comes in the ID token or, as ProConnect and most providers give it, from UserInfo.
  let claims: Record<string, unknown> = { ...(tokens.claims() ?? {}) };
  if (typeof claims.email !== "string" && tokens.access_token) {
    try {
      const info = await client.fetchUserInfo(config, tokens.access_token, String(claims.sub ?? ""));
      claims = { ...claims, ...info };
    } catch {
      throw new DomainError(
        "bad_request",
        "le fournisseur d'identité n'a pas donné les informations du compte : recommencez",
      );
    }
  }
  const email = typeof claims.email === "string" ? claims.email.trim().toLowerCase() : "";
  if (!email || claims.email_verified === false)
    throw new DomainError(
      "forbidden",
      "ProConnect n'a pas donné d'adresse électronique vérifiée : connexion impossible",
    );
  const userId = await db.transaction(async (tx) => {
    const u = await accountByEmail(tx, email);
    if (u) {
      if (u.disabled)
        throw new DomainError(
          "forbidden",
          "ce compte est désactivé : adressez-vous à votre ARS ou à l'administrateur",
        );
      return u.user_id;
    }
    // An invitation still open for this address: ProConnect accepts it (no password needed).
    const [inv] = await tx.query<{
      invitation_id: number;
      role: Principal["role"];
      region: string | null;
      grappes: string[];
    }>(
      `select invitation_id::int as invitation_id, role, region, grappes from invitation
       where lower(email) = $1 and accepted_at is null and revoked_at is null and expires_at > now()
       order by invitation_id desc limit 1 for update`,
      [email],
    );
    if (!inv)
      throw new DomainError(
        "forbidden",
        "aucun compte n'existe pour cette adresse : demandez une invitation à votre ARS ou à votre chef de projet",
      );
    const id = await insertUser(tx, { email, role: inv.role, region: inv.region, grappes: inv.grappes }, "");
    await tx.query("update app_user set password_hash = null where user_id = $1", [id]);
    await tx.query("update invitation set accepted_at = now() where invitation_id = $1", [inv.invitation_id]);
    await audit(
      tx,
      email,
      "invitation.accept",
      "invitation",
      String(inv.invitation_id),
      inv.grappes[0] ?? null,
      null,
      {
        user_id: id,
        via: "proconnect",
      },
    );
    return id;
  });
  const token = await insertSession(db, userId);
  await touchLastLogin(db, userId);
  await audit(db, email, "session.proconnect", "app_user", String(userId), null, null, null);
  return {
    token,
    principal: (await principalOf(db, userId, "session")) as Principal,
    idToken: tokens.id_token ?? "",
  };
}

/** The provider's logout address (its session ends too), back to `after`. */
export async function logoutUrl(s: OidcSettings, idToken: string | undefined, after: string): Promise<URL> {
  const [config, client] = await Promise.all([providerConfig(s), lib()]);
  return client.buildEndSessionUrl(config, {
    post_logout_redirect_uri: after,
    ...(idToken ? { id_token_hint: idToken } : {}),
  });
}
