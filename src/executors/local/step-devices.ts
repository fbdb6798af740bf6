/**
 * The GPUs a sandboxed step may use. bwrap's `--dev` gives the step a minimal /dev (null, zero,
 * random, urandom, tty, shm, pts), never the host's, which would expose raw disks; GPU steps also
 * need their device nodes, as `docker run --gpus` gives them: NVIDIA's (/dev/nvidia0…, nvidiactl,
 * nvidia-uvm, nvidia-caps/), AMD ROCm's /dev/kfd, and the DRM render nodes under /dev/dri.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

const GPU_DEVICE = /^(nvidia.*|kfd|dri)$/;

const found = new Map<string, string[]>();

/** The GPU device nodes under `dev` (read once per process: GPUs do not come and go under a server). */
export function gpuDevices(dev = "/dev"): string[] {
  let devices = found.get(dev);
  if (!devices) {
    devices = readdirSync(dev)
      .filter((name) => GPU_DEVICE.test(name))
      .sort()
      .map((name) => join(dev, name));
    found.set(dev, devices);
  }
  return devices;
}

/** bwrap's mounts of those devices into the step's /dev (after `--dev /dev`). */
export function deviceMounts(dev = "/dev"): string[] {
  return gpuDevices(dev).flatMap((path) => ["--dev-bind", path, path]);
}
