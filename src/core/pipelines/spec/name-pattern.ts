/**
 * The name rule alone, without zod: the CLI checks names with it while registering commands, and
 * loading zod there would cost every command (`--help` included) about 50 ms of CPU.
 */

/** A step, pipeline, dataset, policy, endpoint or monitor name. */
export const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,99}$/;
