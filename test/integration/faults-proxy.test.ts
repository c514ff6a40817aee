import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, beforeEach, describe, test } from 'node:test';
import { CreateClusterCommand, DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describeAwsError, isAccessDenied } from '../../shared/aws-error.ts';
import { clientConfig } from '../../shared/secrets-manager-client.ts';
import { type AwsProxy, type FaultKind, startAwsProxy } from '../helpers/aws-proxy.ts';
import { clientOptions, type Moto, startMoto } from '../helpers/moto.ts';

// The fault proxy is what every fault test trusts, so each fault kind is checked here twice: on the raw HTTP level
// (does it do what its name says?) and through the real SDK with the product's client settings (is the error the
// one the real service sends, and does the SDK classify it as the real one: retried or not?).
// Real shapes, for reference: Secrets Manager and ECS speak awsJson1_1; a client or throttling error is HTTP 400
// with a JSON body `{"__type": "ThrottlingException", "message": "Rate exceeded"}` (ECS documents exactly this for
// throttling); server faults are the service's modelled 5xx error (Secrets Manager `InternalServiceError`, ECS
// `ServerException`, both HTTP 500) or a bare 503 from the front end.

let moto: Moto;
let proxy: AwsProxy;

before(async () => {
  moto = await startMoto();
  proxy = await startAwsProxy(moto.endpoint);
  const sm = new SecretsManagerClient(clientOptions(moto.endpoint));
  const ecs = new ECSClient(clientOptions(moto.endpoint));
  await sm.send(new CreateSecretCommand({ Name: 'probe', SecretString: '{"PROBE":"not-a-secret"}' }));
  await ecs.send(new CreateClusterCommand({ clusterName: 'probe' }));
  sm.destroy();
  ecs.destroy();
});
after(async () => {
  await proxy?.close();
  await moto?.stop();
});
beforeEach(() => {
  proxy.clearFaults();
  proxy.resetCounts();
});

/** The product's client settings (standard retry, throwing request timeout), pointed at the proxy. */
function clients(maxAttempts: number) {
  const config = {
    ...clientConfig({ region: 'us-east-1', requestTimeoutMs: 400, maxAttempts }),
    endpoint: proxy.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  return { sm: new SecretsManagerClient(config), ecs: new ECSClient(config) };
}

const CALLS = {
  secretsmanager: {
    action: 'BatchGetSecretValue',
    send: (c: ReturnType<typeof clients>) => c.sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['probe'] })),
  },
  ecs: {
    action: 'DescribeServices',
    send: (c: ReturnType<typeof clients>) =>
      c.ecs.send(new DescribeServicesCommand({ cluster: 'probe', services: ['x'] })),
  },
} as const;

interface Expected {
  readonly kind: FaultKind;
  /** The error the SDK raises, per service: its name (or Node error code) and HTTP status. */
  readonly error: Record<keyof typeof CALLS, { name?: string; code?: string; status?: number }>;
  readonly retried: boolean;
}

const both = (e: { name?: string; code?: string; status?: number }) => ({ secretsmanager: e, ecs: e });
const EXPECTED: readonly Expected[] = [
  { kind: 'throttle', error: both({ name: 'ThrottlingException', status: 400 }), retried: true },
  { kind: 'tooManyRequests', error: both({ name: 'TooManyRequestsException', status: 400 }), retried: true },
  { kind: 'accessDenied', error: both({ name: 'AccessDeniedException', status: 400 }), retried: false },
  {
    kind: 'http500',
    error: {
      secretsmanager: { name: 'InternalServiceError', status: 500 },
      ecs: { name: 'ServerException', status: 500 },
    },
    retried: true,
  },
  { kind: 'http503', error: both({ name: 'ServiceUnavailableException', status: 503 }), retried: true },
  { kind: 'reset', error: both({ code: 'ECONNRESET' }), retried: true },
  { kind: 'stall', error: both({ name: 'TimeoutError' }), retried: true },
  // The SDK reads the cut body as a dropped connection: `aborted`, code ECONNRESET.
  { kind: 'truncate', error: both({ code: 'ECONNRESET' }), retried: true },
  // The client's response cap (shared/response-cap.ts) ends the endless body; the same endpoint would do it again.
  { kind: 'endless', error: both({ name: 'ResponseTooLargeError', status: 200 }), retried: false },
  // Forwarded, acted on, then the connection drops: to the SDK it is a reset (the product's redeploy client alone
  // does not resend, watcher/redeploy-client.ts).
  { kind: 'lose', error: both({ code: 'ECONNRESET' }), retried: true },
];

describe('each fault kind, through the real SDK with the product client settings', () => {
  for (const e of EXPECTED) {
    for (const service of ['secretsmanager', 'ecs'] as const) {
      const call = CALLS[service];
      const what = e.error[service].name ?? e.error[service].code;
      test(`${e.kind} on ${call.action}: ${what}, ${e.retried ? 'retried' : 'not retried'}`, async () => {
        // Always faulting, one attempt: the raw error.
        proxy.addFault({ action: call.action, kind: e.kind });
        const one = clients(1);
        const err = await call.send(one).then(
          () => assert.fail('expected an error'),
          (x: unknown) => x as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } },
        );
        one.sm.destroy();
        one.ecs.destroy();
        const want = e.error[service];
        if (want.name) assert.equal(err.name, want.name);
        if (want.code) assert.equal(err.code, want.code);
        if (want.status) assert.equal(err.$metadata?.httpStatusCode, want.status);
        assert.equal(isAccessDenied(err), e.kind === 'accessDenied');
        assert.doesNotMatch(describeAwsError(err), /proxy-fault|arn:aws:sts|assumed-role/, 'no request id or ARN');

        // Faulting only the first call, two attempts: the SDK retries exactly the retryable kinds.
        proxy.clearFaults();
        proxy.resetCounts();
        proxy.addFault({ action: call.action, kind: e.kind, times: 1 });
        const two = clients(2);
        const outcome = await call.send(two).then(
          () => 'ok',
          (x: unknown) => (x as Error).name,
        );
        two.sm.destroy();
        two.ecs.destroy();
        assert.equal(proxy.count(call.action), e.retried ? 2 : 1, 'calls on the wire');
        assert.equal(outcome, e.retried ? 'ok' : e.error[service].name);
      });
    }
  }
});

/** One raw request through the proxy: what came back on the socket, byte for byte. */
function raw(target: string, waitMs: number) {
  return new Promise<{
    status?: number;
    headers?: Record<string, unknown>;
    body: Buffer;
    error?: string;
    complete: boolean;
  }>((resolve) => {
    const chunks: Buffer[] = [];
    let status: number | undefined;
    let headers: Record<string, unknown> | undefined;
    let complete = false;
    const finish = (error?: string) => {
      clearTimeout(timer);
      req.destroy();
      resolve({ status, headers, body: Buffer.concat(chunks), complete, ...(error && { error }) });
    };
    const req = request(`${proxy.endpoint}/`, {
      method: 'POST',
      headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.1' },
    });
    const timer = setTimeout(() => finish('no answer'), waitMs);
    req.on('response', (res) => {
      status = res.statusCode;
      headers = res.headers;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        complete = true;
        finish();
      });
      res.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    req.end(JSON.stringify({ SecretIdList: ['probe'] }));
  });
}

describe('each fault kind on the wire does what its name says', () => {
  const SM = 'secretsmanager.BatchGetSecretValue';
  const ECS = 'AmazonEC2ContainerServiceV20141113.DescribeServices';

  test('error kinds answer with the JSON error shape of the service, at once', async () => {
    const cases: [FaultKind, string, number, string][] = [
      ['throttle', SM, 400, 'ThrottlingException'],
      ['tooManyRequests', SM, 400, 'TooManyRequestsException'],
      ['accessDenied', SM, 400, 'AccessDeniedException'],
      ['http500', SM, 500, 'InternalServiceError'],
      ['http500', ECS, 500, 'ServerException'],
      ['http503', ECS, 503, 'ServiceUnavailableException'],
    ];
    for (const [kind, target, status, type] of cases) {
      proxy.clearFaults();
      proxy.addFault({ action: '*', kind });
      const res = await raw(target, 2000);
      assert.equal(res.status, status, kind);
      assert.equal(res.headers?.['content-type'], 'application/x-amz-json-1.1');
      assert.ok(res.headers?.['x-amzn-requestid'], 'a request id header, as AWS sends');
      const body = JSON.parse(res.body.toString()) as { __type: string; message: string };
      assert.equal(body.__type, type);
      assert.equal(typeof body.message, 'string');
    }
  });

  test('reset closes the connection without a byte', async () => {
    proxy.addFault({ action: '*', kind: 'reset' });
    const res = await raw(SM, 2000);
    assert.equal(res.status, undefined);
    assert.equal(res.body.length, 0);
    assert.equal(res.error, 'ECONNRESET');
  });

  test('stall holds the connection open and never answers', async () => {
    proxy.addFault({ action: '*', kind: 'stall' });
    const res = await raw(SM, 500);
    assert.equal(res.error, 'no answer');
    assert.equal(res.status, undefined);
    assert.equal(proxy.maxInFlight(), 1, 'the stalled request is still open on the proxy');
  });

  test('truncate forwards the real answer but cuts its body short of Content-Length', async () => {
    proxy.addFault({ action: '*', kind: 'truncate' });
    const res = await raw(SM, 2000);
    assert.equal(res.status, 200);
    assert.equal(res.complete, false, 'the body never ends');
    const declared = Number(res.headers?.['content-length']);
    assert.ok(res.body.length > 0 && res.body.length < declared, `${res.body.length} of ${declared} bytes`);
  });

  test('lose lets moto act on the call, then drops the connection unanswered', async () => {
    const sm = new SecretsManagerClient(clientOptions(moto.endpoint));
    const before = (await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'probe' }))).Versions?.length ?? 0;
    proxy.addFault({ action: 'PutSecretValue', kind: 'lose' });
    const one = clients(1);
    const err = await one.sm
      .send(new PutSecretValueCommand({ SecretId: 'probe', SecretString: '{"PROBE":"again"}' }))
      .then(
        () => assert.fail('expected an error'),
        (x: unknown) => x as { code?: string },
      );
    one.sm.destroy();
    assert.equal(err.code, 'ECONNRESET');
    const after = (await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'probe' }))).Versions?.length ?? 0;
    sm.destroy();
    assert.equal(after, before + 1, 'the call took effect');
  });

  test('endless answers 200 and sends body bytes for as long as the client reads', async () => {
    proxy.addFault({ action: '*', kind: 'endless' });
    const got = await new Promise<{ status?: number; bytes: number }>((resolve, reject) => {
      const req = request(`${proxy.endpoint}/`, { method: 'POST', headers: { 'x-amz-target': SM } });
      req.on('response', (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          // 32 MiB: more than any response cap, and still going.
          if (bytes > 32 * 1024 * 1024) {
            req.destroy();
            resolve({ status: res.statusCode, bytes });
          }
        });
        res.on('end', () => reject(new Error(`the body ended after ${bytes} bytes`)));
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      req.end('{}');
    });
    assert.equal(got.status, 200);
  });

  test('times, bodyIncludes and counting: only the matching calls fault, every call is counted', async () => {
    proxy.addFault({ action: 'BatchGetSecretValue', kind: 'throttle', times: 1, bodyIncludes: '"probe"' });
    const first = await raw(SM, 2000);
    const second = await raw(SM, 2000);
    assert.equal(first.status, 400);
    assert.equal(second.status, 200);
    assert.equal(proxy.count('BatchGetSecretValue'), 2);
  });
});
