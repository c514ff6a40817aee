import { UsageError } from '../shared/errors.ts';
import type { Command } from './io.ts';

// Placeholder until the watch issue lands: reports itself as not available.
export const watchCommand: Command = async () => {
  throw new UsageError('"watch" is not available in this build');
};
