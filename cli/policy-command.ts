import { UsageError } from '../shared/errors.ts';
import type { Command } from './io.ts';

// Placeholder until the policy issue lands: reports itself as not available.
export const policyCommand: Command = async () => {
  throw new UsageError('"policy" is not available in this build');
};
