import { UsageError } from '../shared/errors.ts';
import type { Command } from './io.ts';

// Placeholder until the inject issue lands: reports itself as not available.
export const injectCommand: Command = async () => {
  throw new UsageError('"inject" is not available in this build');
};
