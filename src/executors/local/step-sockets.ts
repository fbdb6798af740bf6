/**
 * Sockets through which a step would act outside its sandbox. bwrap shares the host's filesystem
 * (read-only) and network namespace, and a read-only mount does not stop connect(2): through the
 * system manager's socket a root step asks systemd (pid 1, outside every namespace) to run a command
 * as root (`systemd-run`); through the user's bus in $XDG_RUNTIME_DIR a step of any other user asks
 * the user's systemd the same (`systemd-run --user`); through $SSH_AUTH_SOCK it signs with the keys
 * of the admin who started the server; through Docker's or Podman's socket it starts a privileged
 * container. Each is covered, as the server's files are: an empty tmpfs over a folder, /dev/null over
 * a socket. Abstract sockets (`unix:abstract=`) have no path to cover: they belong to the network
 * namespace, which steps share with the host.
 */
import { lstatSync } from "node:fs";
import { hiddenMounts } from "./sandbox.js";

/** Where such sockets sit on Linux hosts (systemd, D-Bus, Docker, containerd, Podman). */
const SYSTEM_SOCKETS = [
  "/run/systemd/private",
  "/run/systemd/io.systemd.ManagedOOM",
  "/run/dbus/system_bus_socket",
  "/var/run/dbus/system_bus_socket",
  "/run/docker.sock",
  "/var/run/docker.sock",
  "/run/containerd/containerd.sock",
  "/run/podman/podman.sock",
];

/** The paths to cover for this process's environment: its runtime folder, its agents, the system's sockets. */
export function hostSockets(env: NodeJS.ProcessEnv = process.env): string[] {
  const uid = process.getuid?.();
  const paths = [...SYSTEM_SOCKETS, env.XDG_RUNTIME_DIR || (uid === undefined ? "" : `/run/user/${uid}`)];
  if (env.SSH_AUTH_SOCK) paths.push(env.SSH_AUTH_SOCK);
  const bus = /(?:^|;)unix:path=([^,;]+)/.exec(env.DBUS_SESSION_BUS_ADDRESS ?? "")?.[1];
  if (bus) paths.push(bus);
  return paths.filter((path) => path.startsWith("/") && lstatSync(path, { throwIfNoEntry: false }));
}

let mounts: string[] | undefined;

/**
 * bwrap's mounts covering hostSockets, made once per process (the sockets of a running server's host
 * and environment do not move, and each step is spared a dozen stats).
 */
export function socketMounts(): readonly string[] {
  mounts ??= hiddenMounts(hostSockets()).flatMap(({ path, kind }) =>
    kind === "dir" ? ["--tmpfs", path] : ["--ro-bind", "/dev/null", path],
  );
  return mounts;
}
