/**
 * `npm run teams:package`: writes the Teams app package (dist/sesame-teams.zip) to upload in
 * Teams (Apps → Manage your apps → Upload an app) or the Teams admin center. The manifest in
 * manifest/teams/ is a template: the app and bot ids become TEAMS_APP_ID (the bot's Microsoft App
 * ID), and the developer links and validDomains point at SESAME_PUBLIC_URL when it is set.
 *   TEAMS_APP_ID=<guid> SESAME_PUBLIC_URL=https://sesame.example.org npm run teams:package [-- --out path.zip]
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import JSZip from "jszip";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DIR = "manifest/teams";

export class PackageError extends Error {}

export interface PackageOptions {
  appId: string | undefined;
  publicUrl?: string | undefined;
  manifestDir?: string;
}

export function teamsManifest(options: PackageOptions): Record<string, any> {
  const appId = options.appId?.trim();
  if (!appId)
    throw new PackageError(
      "TEAMS_APP_ID is not set: set it to your Azure Bot's Microsoft App ID (a GUID), e.g. TEAMS_APP_ID=… npm run teams:package",
    );
  if (!GUID.test(appId))
    throw new PackageError(`TEAMS_APP_ID must be a GUID (the Azure Bot's Microsoft App ID); got "${appId}"`);
  const manifest = JSON.parse(readFileSync(`${options.manifestDir ?? DIR}/manifest.json`, "utf8")) as Record<
    string,
    any
  >;
  manifest.id = appId;
  for (const bot of manifest.bots) bot.botId = appId;
  if (options.publicUrl) {
    if (!URL.canParse(options.publicUrl))
      throw new PackageError(`SESAME_PUBLIC_URL must be an https:// address; got "${options.publicUrl}"`);
    const url = new URL(options.publicUrl);
    if (url.protocol !== "https:")
      throw new PackageError(`SESAME_PUBLIC_URL must be an https:// address; got "${options.publicUrl}"`);
    const site = url.origin;
    manifest.developer = { ...manifest.developer, websiteUrl: site, privacyUrl: site, termsOfUseUrl: site };
    manifest.validDomains = [url.host];
  }
  return manifest;
}

export async function buildTeamsPackage(options: PackageOptions): Promise<Buffer> {
  const dir = options.manifestDir ?? DIR;
  const zip = new JSZip();
  zip.file("manifest.json", JSON.stringify(teamsManifest(options), null, 2));
  zip.file("color.png", readFileSync(`${dir}/color.png`));
  zip.file("outline.png", readFileSync(`${dir}/outline.png`));
  return zip.generateAsync({ type: "nodebuffer", compression: "DEFLATE" });
}

async function main(): Promise<void> {
  const outIndex = process.argv.indexOf("--out");
  const out = outIndex >= 0 ? process.argv[outIndex + 1] : "dist/sesame-teams.zip";
  if (!out) throw new PackageError("--out needs a file name");
  const zip = await buildTeamsPackage({ appId: process.env.TEAMS_APP_ID, publicUrl: process.env.SESAME_PUBLIC_URL });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, zip);
  console.log(
    `Wrote ${out}. Upload it in Teams (Apps → Manage your apps → Upload an app) or in the Teams admin center.`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error instanceof PackageError ? `Cannot build the Teams package: ${error.message}` : error);
    process.exit(1);
  });
}
