import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Detects MariaDB, Kerberos, Chromium and openssl once; names the groups skipped without them.
    globalSetup: ["test/helpers/prerequisites-setup.ts"],
    // Generous for shared machines: at load 10 a file's Sesame can take many seconds to start.
    // A test that works returns as soon as it is done; these only bound a real hang.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // A file spends most of its time waiting on PostgreSQL, Redis and HTTP, not on the CPU, so run
    // more files at once than there are cores (vitest's default, cores - 1, is one at a time on two).
    maxWorkers: Math.max(4, availableParallelism()),
  },
});
