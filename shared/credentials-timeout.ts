import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { RequestGuardError } from './aws-error.ts';

type Init = Parameters<typeof defaultProvider>[0];
type Provider = ReturnType<typeof defaultProvider>;

/**
 * The SDK's default credential chain, each resolution bounded by `timeoutMs` (a client's `credentialDefaultProvider`).
 * The chain's container-credentials request has a timeout that only warns (`@smithy/node-http-handler - [WARN] a
 * request has exceeded ...`) and never fails, and the chain waits before the request's abort signal is looked at:
 * a task-role endpoint that accepts and never answers held render until its deadline and `watch --once` and
 * `check --remote` for ever. Past the timeout the call fails (`CredentialsTimeoutError`, not retried) and the next
 * call starts a fresh chain: the stalled one stays memoized (its pending answer would be shared by every later call).
 */
export function credentialsWithTimeout(timeoutMs: number, makeChain: (init: Init) => Provider = defaultProvider) {
  return (init: Init): Provider => {
    let chain = makeChain(init);
    return async (props) => {
      const current = chain;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          if (chain === current) chain = makeChain(init);
          reject(
            new RequestGuardError(
              'CredentialsTimeoutError',
              `no credentials within ${timeoutMs / 1000}s (the task-role credentials endpoint or IMDS did not answer)`,
            ),
          );
        }, timeoutMs);
      });
      try {
        return await Promise.race([current(props), timeout]);
      } finally {
        clearTimeout(timer);
      }
    };
  };
}
