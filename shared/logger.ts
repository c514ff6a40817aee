import { type DestinationStream, type Logger, pino } from 'pino';
import { PRODUCT } from './contract.ts';

export type { Logger };

/** JSON logs on the given stream (stdout in the CLI, a buffer in tests). Values never go in here. */
export function createLogger(level: string, dest: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { name: PRODUCT },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
}

export const LOG_LEVELS = Object.freeze(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
