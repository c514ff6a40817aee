import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { describeAwsError } from '../../shared/aws-error.ts';
import { MAX_RESPONSE_BYTES, responseCap } from '../../shared/response-cap.ts';

type Response = { headers: Record<string, string>; body?: unknown };

/** A client's extension configuration holding a fake HTTP handler that answers `response()`. */
function wrapped(response: () => Response, maxBytes: number) {
  const calls: string[] = [];
  let handler = {
    handle: async () => ({ response: response() }),
    updateHttpClientConfig: (key: never) => void calls.push(`update ${String(key)}`),
    httpHandlerConfigs: () => ({ requestTimeout: 1 }),
    destroy: () => void calls.push('destroy'),
    metadata: { handlerProtocol: 'http/1.1' },
  };
  responseCap(maxBytes).configure({
    httpHandler: () => handler,
    setHttpHandler: (h) => {
      handler = h as typeof handler;
    },
  });
  return { handler, calls };
}

const chunks = (sizes: number[]) => Readable.from(sizes.map((n) => Buffer.alloc(n, 'x')));

describe('responseCap', () => {
  it('passes a body within the cap through byte for byte (the cap itself included)', async () => {
    const { handler } = wrapped(() => ({ headers: {}, body: chunks([600, 400]) }), 1000);
    const out = await handler.handle();
    assert.equal((await buffer(out.response.body as Readable)).length, 1000);
  });

  it('fails a body one byte past the cap, as a named error with a safe description', async () => {
    let source: Readable | undefined;
    const { handler } = wrapped(() => {
      source = chunks([600, 401]);
      return { headers: {}, body: source };
    }, 1000);
    const out = await handler.handle();
    const err = await buffer(out.response.body as Readable).then(
      () => assert.fail('expected the body to fail'),
      (e: unknown) => e as Error,
    );
    assert.equal(err.name, 'ResponseTooLargeError');
    assert.match(describeAwsError(err), /^response body over 1000 bytes, refused/);
    assert.equal(source?.destroyed, true, 'the connection is closed');
  });

  it('fails at once when Content-Length declares more than the cap, reading nothing', async () => {
    const body = chunks([10]);
    const { handler } = wrapped(() => ({ headers: { 'content-length': '1001' }, body }), 1000);
    await assert.rejects(handler.handle(), { name: 'ResponseTooLargeError' });
    assert.equal(body.destroyed, true);
  });

  it('leaves a body that is not a stream alone, and passes the rest of the handler through', async () => {
    const { handler, calls } = wrapped(() => ({ headers: {}, body: new Uint8Array(5000) }), 1000);
    assert.equal(((await handler.handle()).response.body as Uint8Array).length, 5000);
    handler.updateHttpClientConfig('requestTimeout' as never);
    handler.destroy();
    assert.deepEqual(calls, ['update requestTimeout', 'destroy']);
    assert.deepEqual(handler.httpHandlerConfigs(), { requestTimeout: 1 });
    assert.deepEqual(handler.metadata, { handlerProtocol: 'http/1.1' });
  });

  it('has a default cap above the largest real answer (20 secrets of 65,536 characters, each escaped to 6 bytes)', () => {
    assert.ok(MAX_RESPONSE_BYTES > 20 * (65_536 * 6 + 1024));
  });
});
