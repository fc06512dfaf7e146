import { prettyFactory } from 'pino-pretty';
import type { LogSettings } from './settings.js';

/** `off`; `json`: the same lines; `pretty`: human-readable; `auto`: pretty on a TTY, else off. */
export type StdoutMode = 'off' | 'json' | 'pretty' | 'auto';

const MODES: readonly StdoutMode[] = ['off', 'json', 'pretty', 'auto'];

export function resolveStdoutMode(env: NodeJS.ProcessEnv): StdoutMode {
  const raw = env.LOG_STDOUT?.trim().toLowerCase();
  return raw && (MODES as readonly string[]).includes(raw) ? (raw as StdoutMode) : 'auto';
}

/** A function that mirrors a line to stdout, or null for `off`. Stdout failures are ignored: the file is the record. */
export function createStdoutMirror(mode: StdoutMode, settings: LogSettings): ((line: string) => void) | null {
  const resolved = mode === 'auto' ? (process.stdout.isTTY ? 'pretty' : 'off') : mode;
  if (resolved === 'off') return null;
  process.stdout.on('error', () => {});
  if (resolved === 'json') {
    return (line) => {
      process.stdout.write(line);
    };
  }
  const pretty = prettyFactory({
    colorize: Boolean(process.stdout.isTTY),
    messageKey: settings.messageKey,
    timestampKey: settings.timeKey,
    levelKey: settings.levelKey,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
  });
  return (line) => {
    try {
      process.stdout.write(pretty(line));
    } catch {
      process.stdout.write(line);
    }
  };
}
