import { pipeline, Readable, Transform } from 'node:stream';
import { RequestGuardError } from './aws-error.ts';

/**
 * The largest response body any AWS call of this project reads. The biggest real answer is BatchGetSecretValue
 * with 20 secrets at Secrets Manager's limit of 65,536 characters each, every character escaped as `\uXXXX` in
 * the worst case (6 bytes): 20 x 384 KiB = 7.5 MiB, plus about 1 KiB of metadata per secret. Every other call
 * (DescribeSecret, DescribeServices of ten services with their events, ListServices) answers well under 1 MiB.
 * A response is held at most this big before it fails, so memory stays bounded by the cap times the calls in
 * flight (render: 4; watch: --concurrency, 10 by default).
 */
export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
const MiB = 1024 * 1024;

/** The part of the SDK's HttpHandler this wrapper touches; the rest is passed through as it is. */
interface HttpHandlerLike {
  handle(request: never, options?: never): Promise<{ response: { headers: Record<string, string>; body?: unknown } }>;
  updateHttpClientConfig(key: never, value: never): void;
  httpHandlerConfigs(): unknown;
  destroy?(): void;
  readonly metadata?: unknown;
}

/**
 * A client extension (the `extensions` config of every SDK v3 client) that wraps the client's HTTP handler: a
 * response body past `maxBytes` fails the request (`ResponseTooLargeError`, not retried: the same endpoint would
 * answer the same) and its connection is closed, instead of being buffered until the process runs out of memory.
 */
export function responseCap(maxBytes: number = MAX_RESPONSE_BYTES) {
  return {
    configure(c: { httpHandler(): HttpHandlerLike; setHttpHandler(handler: HttpHandlerLike): void }): void {
      c.setHttpHandler(capResponses(c.httpHandler(), maxBytes));
    },
  };
}

function capResponses(inner: HttpHandlerLike, maxBytes: number): HttpHandlerLike {
  return {
    async handle(request, options) {
      const out = await inner.handle(request, options);
      const { response } = out;
      const body = response.body;
      if (!(body instanceof Readable)) return out;
      // A declared length over the cap fails before any byte is read.
      if (Number(response.headers['content-length']) > maxBytes) {
        body.destroy();
        throw tooLarge(maxBytes);
      }
      response.body = capStream(body, maxBytes);
      return out;
    },
    updateHttpClientConfig: (key, value) => inner.updateHttpClientConfig(key, value),
    httpHandlerConfigs: () => inner.httpHandlerConfigs(),
    destroy: () => inner.destroy?.(),
    get metadata() {
      return inner.metadata;
    },
  };
}

/** The body passed through while it stays within the cap; past it, an error (and the source is destroyed). */
function capStream(body: Readable, maxBytes: number): Readable {
  let seen = 0;
  const capped = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > maxBytes) done(tooLarge(maxBytes));
      else done(null, chunk);
    },
  });
  // pipeline destroys the source (and so closes the connection) when the cap fails the transform.
  pipeline(body, capped, () => undefined);
  return capped;
}

function tooLarge(maxBytes: number): RequestGuardError {
  return new RequestGuardError(
    'ResponseTooLargeError',
    `response body over ${maxBytes % MiB === 0 ? `${maxBytes / MiB} MiB` : `${maxBytes} bytes`}, refused (an endpoint that is not AWS, or a broken proxy?)`,
  );
}
