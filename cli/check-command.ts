import { UsageError } from '../shared/errors.ts';
import type { Command } from './io.ts';

// Placeholder until the check issue lands: reports itself as not available.
export const checkCommand: Command = async () => {
  throw new UsageError('"check" is not available in this build');
};
