import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  PLAYGROUND_APPROVER,
  PLAYGROUND_REQUESTER,
  type Playground,
  startPlayground,
} from "../../../scripts/dev-playground.js";
import { freePort } from "../../helpers/free-port.js";
import { describeWith } from "../../helpers/prerequisites.js";
import { startSesame, type TestSesame } from "../../helpers/sesame.js";
import { waitFor } from "../../helpers/wait.js";

/**
 * End to end in a browser: two Microsoft 365 Agents Playgrounds (Alice requests, Bob approves),
 * exactly as `npm run dev` runs them, against a test Sesame in Teams development mode. Headless
 * Debian chromium driven by playwright-core. On failure, screenshots go to the printed folder.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const WAIT = 30_000;

const POLICY = `
version: 1
people:
  - { id: alice, email: ${PLAYGROUND_REQUESTER.email}, name: Alice Martin }
  - { id: bob, email: ${PLAYGROUND_APPROVER.email}, name: Bob Chen }
connectors:
  demo: { type: noop }
resources:
  playground-demo: { connector: demo, description: A pretend role }
policies:
  - id: playground
    resources: [playground-demo]
    requesters: { everyone: true }
    duration: { default: 30m, max: 2h }
    approvers: { users: [bob] }
`;

let sesame: TestSesame;
let browser: Browser;
let dir: string;
const playgrounds: Playground[] = [];

async function openChat(url: string, who: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(url, { waitUntil: "domcontentloaded" });
  // The playground installs the app when its UI loads; Sesame greets every new chat.
  await page
    .getByText("Hi, I am Sesame")
    .first()
    .waitFor({ timeout: WAIT })
    .catch(async (error: unknown) => {
      await page.screenshot({ path: join(dir, `${who}-no-greeting.png`) });
      throw new Error(`${who}'s playground never showed Sesame's greeting (screenshot in ${dir}): ${String(error)}`);
    });
  return page;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`This test needs Debian's chromium at ${CHROMIUM} (apt-get install chromium), or CHROMIUM_PATH.`);
  dir = await mkdtemp(join(tmpdir(), "sesame-playground-"));
  sesame = await startSesame("teamsplayground", {
    policy: POLICY,
    identities: [],
    env: { TEAMS_DEV_NO_AUTH: "true", NODE_ENV: "development" },
  });
  const endpoint = `${sesame.baseUrl}/api/messages`;
  playgrounds.push(
    await startPlayground({
      endpoint,
      port: await freePort(),
      user: PLAYGROUND_REQUESTER,
      others: [PLAYGROUND_APPROVER],
      dir,
    }),
  );
  playgrounds.push(
    await startPlayground({
      endpoint,
      port: await freePort(),
      user: PLAYGROUND_APPROVER,
      others: [PLAYGROUND_REQUESTER],
      dir,
    }),
  );
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  for (const playground of playgrounds) playground.stop();
  await sesame?.stop();
});

describeWith("chromium", "Teams in the Agents Playground", () => {
  it("Alice requests, Bob sees the approval card, clicks Approve, the card updates and the grant happens", async () => {
    const [alicePlayground, bobPlayground] = playgrounds;
    const bob = await openChat(bobPlayground!.url, "bob");
    const alice = await openChat(alicePlayground!.url, "alice");
    try {
      await alice.locator('[role="textbox"][contenteditable="true"]').first().click();
      await alice.keyboard.type("request-access playground-demo 1h trying Sesame");
      await alice.keyboard.press("Enter");
      await alice.getByText("Requested playground-demo for 1h").first().waitFor({ timeout: WAIT });

      const approve = bob.getByRole("button", { name: "Approve" }).first();
      await approve.waitFor({ timeout: WAIT });
      await expect(
        bob.getByText("Alice Martin (alice) requests playground-demo for 1h").first().isVisible(),
      ).resolves.toBe(true);
      await approve.click();
      await bob
        .getByText(/Approved by Bob Chen \(bob\)/)
        .first()
        .waitFor({ timeout: WAIT });
      expect(await bob.getByRole("button", { name: "Approve" }).count()).toBe(0);

      const requests = await sesame.runtime.deps.store.listRequests({ requesterId: "alice", limit: 5 });
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({ status: "approved", decidedById: "bob" });
      await waitFor(
        async () =>
          (await sesame.runtime.deps.store.listGrants({ subjectId: "alice", limit: 5 })).some(
            (g) => g.status === "active",
          ),
        "alice's grant to be active",
        WAIT,
      );
      await alice.getByText("Your access to playground-demo is active").first().waitFor({ timeout: WAIT });
    } catch (error) {
      await alice.screenshot({ path: join(dir, "alice-failure.png") });
      await bob.screenshot({ path: join(dir, "bob-failure.png") });
      throw new Error(`the playground flow failed (screenshots in ${dir}): ${String(error)}`);
    }
  }, 120_000);
});
