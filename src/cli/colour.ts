/**
 * Colour for the CLI's own output, by the usual conventions (config.ts colorPreference): NO_COLOR
 * turns it off, FORCE_COLOR on, otherwise only on a terminal. Piped output and CI logs stay plain.
 */
import { colorPreference } from "../config.js";

const CODES = { red: [31, 39], green: [32, 39], yellow: [33, 39], bold: [1, 22], dim: [2, 22] } as const;
export type Style = keyof typeof CODES;

export function colourOn(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  const preference = colorPreference(env);
  return preference === "always" || (preference === "tty" && Boolean(stream.isTTY));
}

/** `text` in `style` when the stream takes colour, else `text` as it is. */
export function paint(style: Style, text: string, on: boolean = colourOn()): string {
  if (!on) return text;
  const [open, close] = CODES[style];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}
