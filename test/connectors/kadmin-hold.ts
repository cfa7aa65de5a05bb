import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../helpers/wait.js";

/**
 * A kadmin the test can stop mid-call: a shell script, given to the connector as its `command`, in
 * front of the real program. Armed with an argument of the next command (e.g. "+allow_tix"), the
 * run that carries it writes its pid and waits instead of answering: `unanswered` before running
 * the real kadmin, `answer-lost` after it made the change. The test then kills it, as a shutdown
 * or the OOM killer would.
 */

export type KadminHoldStage = "unanswered" | "answer-lost";

export interface HeldKadmin {
  /** The wrapper's path, for the connector's `command`. */
  command: string;
  /** Arms the hold; resolves once a run with `argument` is held. */
  holdNext(argument: string, stage: KadminHoldStage): Promise<void>;
  /** SIGKILLs the held run. */
  kill(): Promise<void>;
  cleanup(): Promise<void>;
}

// `exec sleep` keeps the pid the script wrote, so the kill reaches the process Sesame started.
const script = (dir: string, program: string) => `#!/bin/sh
if [ -f "${dir}/hold" ]; then
  word=$(sed -n 1p "${dir}/hold")
  stage=$(sed -n 2p "${dir}/hold")
  for argument in "$@"; do
    if [ "$argument" = "$word" ]; then
      rm -f "${dir}/hold"
      if [ "$stage" = answer-lost ]; then "${program}" "$@" >/dev/null 2>&1; fi
      echo $$ > "${dir}/held.tmp" && mv "${dir}/held.tmp" "${dir}/held.pid"
      exec sleep 3600
    fi
  done
fi
exec "${program}" "$@"
`;

export async function createHeldKadmin(program: string): Promise<HeldKadmin> {
  const dir = await mkdtemp(join(tmpdir(), "sesame-kadmin-hold-"));
  const command = join(dir, "kadmin");
  await writeFile(command, script(dir, program));
  await chmod(command, 0o755);
  const heldPid = async () => Number(await readFile(join(dir, "held.pid"), "utf8"));
  let pid: number | undefined;
  const kill = async () => {
    if (pid !== undefined) process.kill(pid, "SIGKILL");
    pid = undefined;
  };

  return {
    command,
    async holdNext(argument, stage) {
      await rm(join(dir, "held.pid"), { force: true });
      await writeFile(join(dir, "hold"), `${argument}\n${stage}\n`);
      await waitFor(
        () =>
          heldPid().then(
            () => true,
            () => false,
          ),
        `a kadmin run with ${argument} to be held`,
      );
      pid = await heldPid();
    },
    kill,
    async cleanup() {
      await kill().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
