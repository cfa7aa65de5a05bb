import { execFile } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import JSZip from "jszip";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { buildTeamsPackage, teamsManifest } from "../../../scripts/teams-package.js";
import { manifestProblems } from "./schemas.js";

/** The Teams app package: manifest valid against the v1.22 schema, icons as Teams wants them, and the packaging script. */

const APP_ID = "4c8e2f1a-7b3d-4e5f-8a9b-0c1d2e3f4a5b";
const run = promisify(execFile);
const png = async (path: string) => PNG.sync.read(await readFile(path));

describe("Teams app package", () => {
  it("the manifest template and the packaged manifest validate against MicrosoftTeams.v1.22.schema.json", async () => {
    const template = JSON.parse(await readFile("manifest/teams/manifest.json", "utf8"));
    expect(manifestProblems(template)).toEqual([]);
    const packaged = teamsManifest({ appId: APP_ID, publicUrl: "https://sesame.acme.test/" });
    expect(manifestProblems(packaged)).toEqual([]);
    expect(packaged).toMatchObject({
      id: APP_ID,
      bots: [{ botId: APP_ID, scopes: ["personal", "team"], supportsFiles: false }],
      validDomains: ["sesame.acme.test"],
    });
    expect(packaged.developer.websiteUrl).toBe("https://sesame.acme.test");
  });

  it("the bot's command list shows the commands", async () => {
    const commands = teamsManifest({ appId: APP_ID }).bots[0].commandLists[0].commands.map(
      (c: { title: string }) => c.title,
    );
    expect(commands).toEqual(["request-access", "list", "cancel", "extend", "relinquish", "help"]);
  });

  it("a manifest with a mistake is refused by the schema check (the check is real)", () => {
    expect(manifestProblems({ ...teamsManifest({ appId: APP_ID }), accentColor: "green" })).not.toEqual([]);
  });

  it("has a 192×192 colour icon and a 32×32 white-on-transparent outline icon", async () => {
    const color = await png("manifest/teams/color.png");
    expect([color.width, color.height]).toEqual([192, 192]);
    const outline = await png("manifest/teams/outline.png");
    expect([outline.width, outline.height]).toEqual([32, 32]);
    const pixels = Array.from({ length: 32 * 32 }, (_, i) => outline.data.subarray(i * 4, i * 4 + 4));
    expect(pixels.some((p) => p[3] === 0)).toBe(true);
    expect(pixels.filter((p) => p[3]! > 0).every((p) => p[0] === 255 && p[1] === 255 && p[2] === 255)).toBe(true);
  });

  it("npm run teams:package writes the zip with the app id from the environment", async () => {
    const out = join(await mkdtemp(join(tmpdir(), "teams-pkg-")), "sesame-teams.zip");
    const { stdout } = await run("npx", ["tsx", "scripts/teams-package.ts", "--out", out], {
      env: { ...process.env, TEAMS_APP_ID: APP_ID, SESAME_PUBLIC_URL: "" },
    });
    expect(stdout).toContain(`Wrote ${out}`);
    const zip = await JSZip.loadAsync(await readFile(out));
    expect(Object.keys(zip.files).sort()).toEqual(["color.png", "manifest.json", "outline.png"]);
    const manifest = JSON.parse(await zip.file("manifest.json")!.async("string"));
    expect(manifest.id).toBe(APP_ID);
    expect(manifestProblems(manifest)).toEqual([]);
  }, 30_000);

  it("refuses with a clear message when TEAMS_APP_ID is missing or not a GUID", async () => {
    const env = { ...process.env, TEAMS_APP_ID: "" };
    const failure = await run("npx", ["tsx", "scripts/teams-package.ts", "--out", join(tmpdir(), "never.zip")], {
      env,
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("Cannot build the Teams package: TEAMS_APP_ID is not set"),
    });
    await expect(buildTeamsPackage({ appId: "sesame" })).rejects.toThrow(/TEAMS_APP_ID must be a GUID/);
  }, 30_000);
});
