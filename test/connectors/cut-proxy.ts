import net from "node:net";

/**
 * A TCP proxy on a free loopback port in front of a real server (PostgreSQL, MariaDB, Redis), for
 * the connection-cut tests (connection-cut.ts). It forwards both ways until told to hold one
 * direction at a byte sequence: then the test knows, without any timing, that the connector's call
 * is under way (its statement sent and not answered, or answered and the answer not delivered).
 * resetAll() then cuts every connection the way a network failure or a crashed server does.
 * (test/helpers/tcp-proxy.ts cuts or freezes a whole server at a moment the test picks; this one
 * stops at a given statement.)
 */

/** `toServer`: the connector's requests; `toClient`: the server's answers. */
export type Direction = "toServer" | "toClient";

export interface CutProxy {
  port: number;
  /**
   * Stops forwarding `direction` on the first connection whose bytes (from now on) contain
   * `needle`; that chunk and everything after it in that direction are dropped. Resolves then.
   */
  holdAt(direction: Direction, needle: string): Promise<void>;
  /** Resets every open connection: a TCP RST to the client, the server's side closed. */
  resetAll(): void;
  close(): Promise<void>;
}

interface Hold {
  direction: Direction;
  needle: Buffer;
  reached(): void;
}

export async function startCutProxy(target: { host: string; port: number }): Promise<CutProxy> {
  const open = new Set<{ client: net.Socket; server: net.Socket }>();
  let armed: Hold | undefined;

  const proxy = net.createServer((client) => {
    const server = net.connect(target.port, target.host);
    const pair = { client, server };
    open.add(pair);
    client.on("close", () => open.delete(pair));
    forward(client, server, "toServer");
    forward(server, client, "toClient");
  });

  function forward(from: net.Socket, to: net.Socket, direction: Direction): void {
    let held = false;
    let seen = Buffer.alloc(0);
    from.on("data", (chunk: Buffer) => {
      if (held) return;
      const hold = armed;
      if (hold?.direction === direction) {
        // Accumulated, so a needle split across two chunks is still found.
        seen = Buffer.concat([seen, chunk]);
        if (seen.includes(hold.needle)) {
          held = true;
          armed = undefined;
          hold.reached();
          return;
        }
      }
      to.write(chunk);
    });
    from.on("end", () => to.end());
    // One side failing is the other side's cut; the client under test reports it, not the proxy.
    from.on("error", () => to.destroy());
  }

  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const resetAll = () => {
    for (const { client, server } of open) {
      client.resetAndDestroy();
      server.destroy();
    }
  };
  return {
    port: (proxy.address() as net.AddressInfo).port,
    holdAt(direction, needle) {
      if (armed !== undefined) throw new Error("the proxy already holds at another needle");
      return new Promise<void>((resolve) => {
        armed = { direction, needle: Buffer.from(needle), reached: resolve };
      });
    },
    resetAll,
    async close() {
      resetAll();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}
