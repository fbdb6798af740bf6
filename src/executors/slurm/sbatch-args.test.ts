import { describe, expect, it } from "vitest";
import { memoryMiB, sbatchFlags, slurmJobName, wholeCpus } from "./sbatch-args.js";

describe("sbatch flags from a step", () => {
  it("names the job tandem.<project>.<pipeline>.<step>.<run8>, shell- and Slurm-safe", () => {
    expect(slurmJobName("flights", "train", "fit", "0123456789abcdef")).toBe("tandem.flights.train.fit.01234567");
    expect(slurmJobName("p", "q", "fit[lr=0.1]", "abcdef0123")).toBe("tandem.p.q.fit_lr=0.1_.abcdef01");
  });

  it("maps resources: whole CPUs rounded up, memory in MiB rounded up, GPUs as gres", () => {
    expect([wholeCpus(2), wholeCpus("500m"), wholeCpus("1.5"), wholeCpus("3")]).toEqual([2, 1, 2, 3]);
    expect([memoryMiB("512Mi"), memoryMiB("4Gi"), memoryMiB("1G"), memoryMiB("1000"), memoryMiB("1.5Gi")]).toEqual([
      512, 4096, 954, 1, 1536,
    ]);
    expect(() => memoryMiB("lots")).toThrow(/not a memory size/);
  });

  it("takes time from timeout, and the step's partition, account, qos and extra over the server's", () => {
    const flags = sbatchFlags({
      jobName: "tandem.p.q.s.12345678",
      resources: { cpu: 4, memory: "2Gi", gpu: 1 },
      timeoutMs: 90_500,
      step: { partition: "gpu", extra: ["--constraint=a100"] },
      defaults: { partition: "cpu", account: "ml", qos: "normal", extra: ["--exclusive"] },
    });
    expect(flags).toEqual([
      "--job-name=tandem.p.q.s.12345678",
      "--cpus-per-task=4",
      "--mem=2048M",
      "--gres=gpu:1",
      "--time=2",
      "--partition=gpu",
      "--account=ml",
      "--qos=normal",
      "--exclusive",
      "--constraint=a100",
    ]);
    expect(sbatchFlags({ jobName: "j", resources: {}, step: {}, defaults: { extra: [] } })).toEqual(["--job-name=j"]);
  });
});
