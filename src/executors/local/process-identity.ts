/**
 * Which process a pid names: `<boot id>:<start time>`, the start time in clock ticks after boot
 * (field 22 of /proc/<pid>/stat). A pid is reused after a reboot or once pids wrap around; the pair
 * is not, so a takeover that finds a different pair knows the process is a stranger.
 */
import { readFileSync } from "node:fs";

let bootId: string | null | undefined;

function currentBootId(): string | null {
  if (bootId === undefined) {
    try {
      bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
      bootId = null;
    }
  }
  return bootId;
}

/**
 * The fields of /proc/<pid>/stat after the command name: fields[0] is field 3 (state), fields[2] the
 * process group, fields[19] the start time. Null when the process is gone (or this is not Linux).
 */
export function procStatFields(pid: number | string): string[] | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces or parentheses.
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** The identity of a live process, or null when it is gone (or this is not Linux). */
export function processIdentity(pid: number): string | null {
  const boot = currentBootId();
  if (boot === null) return null;
  const startTime = procStatFields(pid)?.[19]; // field 22 overall
  return startTime && /^\d+$/.test(startTime) ? `${boot}:${startTime}` : null;
}
