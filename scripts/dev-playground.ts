/**
 * The local Teams try-out of `npm run dev`: Microsoft 365 Agents Playground (a dev dependency; it
 * runs offline) in front of Sesame's /api/messages. The playground shows one signed-in user, so
 * two run side by side: Alice (a requester) and Bob (an approver), each in a browser tab. They are
 * the example policy's alice and bob: Sesame finds them by the email the playground reports.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";

export interface PlaygroundUser {
  id: string;
  name: string;
  email: string;
  aadObjectId: string;
}

export const PLAYGROUND_REQUESTER: PlaygroundUser = {
  id: "user-id-alice",
  name: "Alice Martin",
  email: "alice@example.com",
  aadObjectId: "a11ce000-0000-4000-8000-000000000001",
};
export const PLAYGROUND_APPROVER: PlaygroundUser = {
  id: "user-id-bob",
  name: "Bob Chen",
  email: "bob@example.com",
  aadObjectId: "b0b00000-0000-4000-8000-000000000002",
};

/** The playground wants exactly five other users in its roster. */
const EXTRAS: PlaygroundUser[] = [
  "Megan Bowen",
  "Adele Vance",
  "Isaiah Langer",
  "Patti Fernandez",
  "Lynne Robbins",
].map((name, i) => ({
  id: `user-id-${i + 1}`,
  name,
  email: `${name.split(" ")[0]!.toLowerCase()}@example.com`,
  aadObjectId: `00000000-0000-4000-8000-00000000002${i + 1}`,
}));

const account = (user: PlaygroundUser) => {
  const [givenName = user.name, surname = ""] = user.name.split(" ");
  return {
    id: user.id,
    name: user.name,
    userPrincipleName: user.email,
    aadObjectId: user.aadObjectId,
    givenName,
    surname,
    email: user.email,
  };
};

/** The playground's config file (its format 0.1.1) with `user` signed in. */
export function playgroundConfig(user: PlaygroundUser, others: PlaygroundUser[]): string {
  return stringify({
    version: "0.1.1",
    tenantId: "00000000-0000-4000-8000-000000000001",
    bot: { id: "00000000-0000-4000-8000-000000000011", name: "Sesame" },
    currentUser: account(user),
    users: [...others, ...EXTRAS].slice(0, 5).map(account),
    personalChat: { id: `personal-chat-${user.id}` },
    groupChat: { id: "group-chat", name: "Group Chat" },
    team: {
      id: "team-id",
      name: "My Team",
      aadGroupId: "00000000-0000-4000-8000-000000000031",
      channels: [{ id: "channel-announcements-id", name: "Announcements" }],
    },
  });
}

/** The example policy plus a resource that grants nothing (noop) and needs Bob's approval. */
export function playgroundPolicy(examplePolicy: string): string {
  const policy = parse(examplePolicy) as { resources: Record<string, unknown>; policies: unknown[] };
  policy.resources["playground-demo"] = {
    description: "A pretend role for trying approvals; nothing is granted",
    connector: "demo",
    principal: "{{ id }}",
    risk: "high",
  };
  policy.policies.push({
    id: "playground",
    description: "Try a request and an approval in the Agents Playground",
    resources: ["playground-demo"],
    requesters: { everyone: true },
    duration: { default: "30m", max: "2h" },
    reason: { required: true, hint: "Anything will do: this is a try-out." },
    approvers: { users: ["bob"] },
  });
  return stringify(policy);
}

export interface Playground {
  url: string;
  stop(): void;
}

/** Starts one playground for `user` against `endpoint`; resolves once it listens (on `port`, or another if taken). */
export async function startPlayground(options: {
  endpoint: string;
  port: number;
  user: PlaygroundUser;
  others: PlaygroundUser[];
  dir: string;
}): Promise<Playground> {
  mkdirSync(options.dir, { recursive: true });
  const config = join(options.dir, `playground-${options.user.id}.yml`);
  writeFileSync(config, playgroundConfig(options.user, options.others));
  const child = spawn(
    fileURLToPath(new URL("../node_modules/.bin/agentsplayground", import.meta.url)),
    ["-e", options.endpoint, "-c", "msteams", "-p", String(options.port), "--disable-telemetry"],
    {
      env: {
        ...process.env,
        TEAMSAPPTESTER_BROWSER: "none",
        M365_AGENTS_PLAYGROUND_CONFIG_PATH: config,
        M365_AGENTS_PLAYGROUND_LOGFILE: join(options.dir, `playground-${options.user.id}.log`),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let output = "";
    let listening = false;
    const timer = setTimeout(
      () => reject(new Error(`the Agents Playground did not start within 30 s:\n${output}`)),
      30_000,
    );
    // Stays attached after start-up so the pipes keep draining, but stops collecting.
    const onData = (chunk: Buffer) => {
      if (listening) return;
      output += chunk.toString();
      const port = /Listening on (\d+)/.exec(output);
      if (port) {
        listening = true;
        clearTimeout(timer);
        resolve(Number(port[1]));
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) =>
      reject(new Error(`the Agents Playground exited (${code}):\n${output}\n${readLog(options.dir, options.user)}`)),
    );
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => void child.kill("SIGTERM") };
}

function readLog(dir: string, user: PlaygroundUser): string {
  try {
    return readFileSync(join(dir, `playground-${user.id}.log`), "utf8")
      .split("\n")
      .filter((line) => /error/i.test(line))
      .join("\n");
  } catch {
    return "";
  }
}
