/**
 * Stopping a sandboxed step with its grace period. Its process group holds the outer bwrap (the
 * group's leader), bwrap's init inside the new pid namespace, and the step's own processes. SIGTERM
 * to the whole group killed the outer bwrap at once; its init followed (--die-with-parent), and the
 * kernel SIGKILLs a pid namespace whose init dies: a step that traps TERM to clean up was cut off
 * with no grace at all, where the same step outside the sandbox got its 3 s. So the step's processes
 * get SIGTERM one by one and the leader is spared; bwrap's init ignores a TERM from outside its
 * namespace (it has no handler), and when the step exits, init and the outer bwrap exit after it.
 * The group's SIGKILL after the grace period ends whatever is left, as before.
 */
import { readdirSync } from "node:fs";
import { procStatFields } from "./process-identity.js";

/** The pids in process group `group` (the group is field 5 of /proc/PID/stat). */
export function groupMembers(group: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (Number(procStatFields(name)?.[2]) === group) members.push(pid); // gone meanwhile: undefined
  }
  return members;
}

/**
 * SIGTERM to every process of the sandboxed step's group but its leader. A process forked between
 * the read of /proc and the signal misses the TERM; the group's SIGKILL at the end of the grace
 * period still reaches it.
 */
export function terminateInsideSandbox(group: number): void {
  for (const pid of groupMembers(group)) {
    if (pid === group) continue;
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // Already gone.
    }
  }
}
