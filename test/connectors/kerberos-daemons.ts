import type { ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { connect, createServer } from "node:net";
import { WAIT_MS } from "../helpers/wait.js";

/** Config files, ports and process handling for the private realm of kerberos-fixture.ts. */

export function krb5Conf(realm: string, kdcPort: number, kadmindPort: number): string {
  return `[libdefaults]
  default_realm = ${realm}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  rdns = false
  udp_preference_limit = 1
[realms]
  ${realm} = {
    kdc = 127.0.0.1:${kdcPort}
    admin_server = 127.0.0.1:${kadmindPort}
  }
`;
}

export function kdcConf(realm: string, dir: string, kdcPort: number, kadmindPort: number, kpasswdPort: number): string {
  return `[kdcdefaults]
  kdc_listen = 127.0.0.1:${kdcPort}
  kdc_tcp_listen = 127.0.0.1:${kdcPort}
[realms]
  ${realm} = {
    database_name = ${dir}/principal
    key_stash_file = ${dir}/stash
    acl_file = ${dir}/kadm5.acl
    kadmind_listen = 127.0.0.1:${kadmindPort}
    kpasswd_listen = 127.0.0.1:${kpasswdPort}
    max_life = 10h
    max_renewable_life = 7d
  }
[logging]
  kdc = FILE:${dir}/kdc.log
  admin_server = FILE:${dir}/kadmind.log
  default = FILE:${dir}/krb5.log
`;
}

/** Ports free for TCP and UDP on loopback (the KDC listens on both). */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() =>
          typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port")),
        );
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket("udp4");
      socket.once("error", () => resolve(false));
      socket.bind(port, "127.0.0.1", () => socket.close(() => resolve(true)));
    });
    if (udpFree && !ports.includes(port)) ports.push(port);
  }
  return ports;
}

export async function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => socket.end(() => resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${WAIT_MS / 1000} s`);
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
