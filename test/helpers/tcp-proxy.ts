import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy on a loopback port that a test controls, standing between Sesame and a shared
 * server (PostgreSQL) that no test may stop: cutting the proxy is, for Sesame, that server going away.
 */
export interface TcpProxy {
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  /** Refuses new connections and resets open ones: the server crashed or the network dropped. */
  cut(): Promise<void>;
  /** Keeps connections open but passes no byte either way: a half-open connection or a hung server. */
  freeze(): void;
  /** Forwards again, on the same port. */
  restore(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let frozen = false;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // A reset is what the test asked for; unheard, it would crash the test process.
    socket.on("error", () => undefined);
  };
  const server: Server = createServer((client) => {
    track(client);
    if (frozen) return;
    const upstream = connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  const cut = async () => {
    const closed = stopListening();
    for (const socket of sockets) socket.resetAndDestroy();
    await closed;
  };
  const port = await listen(0);
  return {
    port,
    via(url) {
      const proxied = new URL(url);
      proxied.hostname = "127.0.0.1";
      proxied.port = String(port);
      return proxied.toString();
    },
    cut,
    freeze() {
      frozen = true;
      for (const socket of sockets) {
        socket.unpipe();
        socket.pause();
      }
    },
    async restore() {
      if (frozen) {
        frozen = false;
        for (const socket of sockets) socket.resetAndDestroy();
      }
      if (!server.listening) await listen(port);
    },
  };
}
