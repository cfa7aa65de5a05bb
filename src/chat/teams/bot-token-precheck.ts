import { z } from "zod";

/**
 * What can be said about a Bot Framework bearer token without its signature: a token whose header
 * or claims could never pass the SDK's check is refused here, so a forged one costs a JSON parse
 * instead of a fetch of Microsoft's signing keys (which, when unreachable, made Sesame answer 503
 * instead of 401). The signature and the expiry are still checked by the SDK afterwards.
 *
 * The rules mirror botframework-connector 4.23: `AuthenticationConstants.AllowedSigningAlgorithms`,
 * `ToBotFromChannelTokenIssuer` and `ToBotFromBotOrEmulatorTokenValidationParameters.issuer`
 * (plus the single-tenant issuers it adds for the bot's own tenant). A test compares them with the
 * SDK's, so an upgrade that changes them is noticed.
 */

export const ALLOWED_ALGORITHMS = ["RS256", "RS384", "RS512"] as const;
/** Tokens Teams sends (through the Bot Connector service). */
export const CHANNEL_ISSUER = "https://api.botframework.com";
/** Bot-to-bot (skills) and Emulator tokens, issued by Microsoft Entra. */
export const ENTRA_ISSUERS = [
  "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/",
  "https://login.microsoftonline.com/d6d49420-f39b-4df7-a1dc-d59a935871db/v2.0",
  "https://sts.windows.net/f8cdef31-a31e-4b4a-93e4-5f571e91255a/",
  "https://login.microsoftonline.com/f8cdef31-a31e-4b4a-93e4-5f571e91255a/v2.0",
  "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
  "https://sts.windows.net/cab8a31a-1906-4287-a0d8-4eef66b95f6e/",
  "https://login.microsoftonline.us/cab8a31a-1906-4287-a0d8-4eef66b95f6e/v2.0",
  "https://login.microsoftonline.us/f8cdef31-a31e-4b4a-93e4-5f571e91255a/",
  "https://login.microsoftonline.us/f8cdef31-a31e-4b4a-93e4-5f571e91255a/v2.0",
] as const;

const tenantIssuers = (tenantId: string): string[] => [
  `https://sts.windows.net/${tenantId}/`,
  `https://login.microsoftonline.com/${tenantId}/v2.0`,
];

const HeaderSchema = z.looseObject({ alg: z.string(), kid: z.string().min(1).optional() });
const ClaimsSchema = z.looseObject({
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  appid: z.string().optional(),
  azp: z.string().optional(),
  tid: z.string().optional(),
});

export type TokenPrecheck = { ok: true } | { ok: false; reason: string };

function decodePart(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

/** `authorization` is the whole header ("Bearer …"); `appId` and `tenantId` are Sesame's bot registration. */
export function precheckBotToken(authorization: string, bot: { appId: string; tenantId: string }): TokenPrecheck {
  const match = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(authorization);
  if (!match) return { ok: false, reason: "not a signed JWT bearer token" };
  const header = HeaderSchema.safeParse(decodePart(match[1]!));
  if (!header.success) return { ok: false, reason: "malformed JWT header" };
  if (!(ALLOWED_ALGORITHMS as readonly string[]).includes(header.data.alg))
    return { ok: false, reason: `signing algorithm ${header.data.alg.slice(0, 20)} is not RS256/RS384/RS512` };
  const claims = ClaimsSchema.safeParse(decodePart(match[2]!));
  if (!claims.success) return { ok: false, reason: "malformed JWT claims (iss and aud are required)" };
  const { iss, aud, appid, azp, tid } = claims.data;
  const audiences = Array.isArray(aud) ? aud : [aud];
  // The SDK adds the issuers of any tenant a token names to a process-wide list, before checking
  // its signature: a stream of forged tenants would grow it without end.
  if (tid !== undefined && tid !== bot.tenantId && !ENTRA_ISSUERS.some((issuer) => issuer.includes(`/${tid}/`)))
    return { ok: false, reason: "tenant is not this bot's" };
  if (iss === CHANNEL_ISSUER)
    return audiences.includes(bot.appId) ? { ok: true } : { ok: false, reason: "audience is not this bot" };
  if (![...ENTRA_ISSUERS, ...tenantIssuers(bot.tenantId)].includes(iss))
    return { ok: false, reason: "issuer is not the Bot Framework" };
  // Skill tokens name the bot in `aud`, Emulator tokens in `appid` (v1) or `azp` (v2).
  return audiences.includes(bot.appId) || appid === bot.appId || azp === bot.appId
    ? { ok: true }
    : { ok: false, reason: "audience is not this bot" };
}
