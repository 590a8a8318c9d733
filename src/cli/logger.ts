// The operator's log (pino): structured JSON lines with UTC timestamps and levels, or
// human-readable lines on a terminal. Every line of a replica carries its index; transitions carry
// view and status. `--log-debug` adds the replica's trace (why it drops each message it ignores).
import { pino, type Logger } from "pino";
import PinoPretty from "pino-pretty";

export type { Logger } from "pino";

export interface LoggerOptions {
  readonly debug: boolean;
  /** Human-readable lines (default: when stderr is a terminal). */
  readonly pretty?: boolean;
}

export function createLogger(options: LoggerOptions): Logger {
  const level = options.debug ? "debug" : "info";
  const pretty = options.pretty ?? process.stderr.isTTY === true;
  const settings = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  if (!pretty) return pino(settings, pino.destination({ fd: 2, sync: true }));
  const stream = PinoPretty({ destination: 2, sync: true, colorize: true, translateTime: "UTC:yyyy-mm-dd'T'HH:MM:ss.l'Z'" });
  return pino(settings, stream);
}
