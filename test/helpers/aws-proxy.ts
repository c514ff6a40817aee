import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  AWS_QUOTAS,
  type QuotaKey,
  quotaKeyOf,
  RateLimiter,
  type RateQuota,
  type Refusal,
  requestRefusal,
  serviceOf,
  throttled,
} from './aws-limits.ts';
import type { AwsModel } from './aws-model.ts';

/**
 * A loopback HTTP proxy in front of moto that counts AWS calls on the wire (by `X-Amz-Target`, e.g.
 * `BatchGetSecretValue`) and can inject faults per call kind. Tests point `AWS_ENDPOINT_URL` at it.
 * With `limits`, it also refuses what AWS refuses and moto accepts (aws-limits.ts): counts per call, tag grammar,
 * tags per resource, and the account's request-rate quotas. `startMoto()` puts one with limits in front of every
 * moto, so every test's traffic meets them.
 */

export type FaultKind =
  | 'throttle' // 400 ThrottlingException "Rate exceeded", as Secrets Manager and ECS send it (SDK: throttling, retried)
  | 'tooManyRequests' // 400 TooManyRequestsException (SDK: throttling, retried)
  | 'accessDenied' // 400 AccessDeniedException "User: ... is not authorized" (not retried)
  | 'http500' // 500 with the service's own modelled error: InternalServiceError (Secrets Manager), ServerException (ECS)
  | 'http503' // 503 ServiceUnavailableException (SDK: transient, retried)
  | 'reset' // destroy the connection without answering (SDK: ECONNRESET, retried)
  | 'stall' // never answer (the SDK's request timeout fires: TimeoutError, retried)
  | 'truncate' // forward moto's answer, then cut the body short and close (retried)
  | 'lose' // forward the call (moto acts on it), then drop the connection unanswered: the caller cannot know
  | 'endless'; // 200 and a JSON body that never ends, sent as fast as the client reads it

export interface FaultRule {
  /** Action name (`UpdateService`) or '*' for every call. */
  readonly action: string;
  readonly kind: FaultKind;
  /** Fault only the first N matching calls (default: always). */
  readonly times?: number;
  /** Only when the request body contains this text (e.g. a service name). */
  readonly bodyIncludes?: string;
}

export interface AwsProxy {
  readonly endpoint: string;
  /** Calls seen per action, faulted ones included. */
  counts(): Record<string, number>;
  count(action: string): number;
  /** Request bodies seen per action (JSON protocol bodies hold ids, never secret values we seeded, except PutSecretValue). */
  bodies(action: string): string[];
  /** The most requests the proxy held open at once since the last resetCounts() (calls in flight on the wire). */
  maxInFlight(): number;
  /** Calls refused for a limit (a quota or a request AWS would refuse) per action; they are in counts() too. */
  refusals(): Record<string, number>;
  resetCounts(): void;
  /**
   * With limits: changes one quota (`ecs:TagResource`, `secretsmanager:BatchGetSecretValue`, SSM_READS); undefined
   * removes it.
   */
  setQuota(key: QuotaKey, quota: RateQuota | undefined): void;
  /** With limits: every token bucket full again (as a fresh account). */
  refillQuotas(): void;
  addFault(rule: FaultRule): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const errorShape = (type: string, message: string) => JSON.stringify({ __type: type, message });

/** An error answer as AWS's JSON protocol sends one. */
function answer(res: ServerResponse, status: number, payload: string): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'proxy-fault' });
  res.end(payload);
}

const targetOf = (req: IncomingMessage) => {
  const t = req.headers['x-amz-target'];
  return typeof t === 'string' ? t : undefined;
};

/** A 200 whose JSON body never ends (a string that never closes), written as fast as the reader takes it. */
function endless(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'proxy-fault' });
  const chunk = Buffer.alloc(64 * 1024, 'a');
  res.write('{"SecretValues":[{"Name":"x","SecretString":"');
  const pump = () => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', pump);
  };
  pump();
}

/** The 5xx error each service models (ECS: ServerException; SSM: InternalServerError; Secrets Manager: InternalServiceError). */
const serverErrorOf = (target: string | undefined) =>
  target?.startsWith('AmazonEC2ContainerService')
    ? 'ServerException'
    : target?.startsWith('AmazonSSM.')
      ? 'InternalServerError'
      : 'InternalServiceError';

export interface AwsProxyOptions {
  /** Refuse what AWS refuses (aws-limits.ts) with AWS's answers. Default off: startMoto() puts one with limits first. */
  readonly limits?: boolean;
  /** Answer as AWS would where moto does not (aws-model.ts): version times, ECS rollouts. */
  readonly model?: AwsModel;
}

export async function startAwsProxy(target: string, options: AwsProxyOptions = {}): Promise<AwsProxy> {
  const upstream = new URL(target);
  const limiter = options.limits ? new RateLimiter(AWS_QUOTAS) : undefined;
  const refused = new Map<string, number>();
  const counts = new Map<string, number>();
  const bodies = new Map<string, string[]>();
  let rules: { rule: FaultRule; used: number }[] = [];
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let maxInFlight = 0;

  const actionOf = (req: IncomingMessage): string => {
    const t = req.headers['x-amz-target'];
    if (typeof t === 'string') return t.split('.').pop() ?? t;
    return `${req.method} ${req.url?.split('?')[0]}`;
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    let done = false;
    const settle = () => {
      if (!done) inFlight--;
      done = true;
    };
    res.on('close', settle);
    req.socket.on('close', settle);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const action = actionOf(req);
      counts.set(action, (counts.get(action) ?? 0) + 1);
      const list = bodies.get(action) ?? [];
      list.push(body.toString('utf8'));
      bodies.set(action, list);
      const hit = rules.find(
        (r) =>
          (r.rule.action === '*' || r.rule.action === action) &&
          (r.rule.times === undefined || r.used < r.rule.times) &&
          (r.rule.bodyIncludes === undefined || body.includes(r.rule.bodyIncludes)),
      );
      if (hit) {
        hit.used++;
        return fault(hit.rule.kind, req, res, body);
      }
      const own = modelAnswer(req, body);
      if (own) {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'proxy-model' });
        return res.end(own);
      }
      if (!limiter) return forward(req, res, body, 'whole');
      limitRefusal(req, action, body).then(
        (refusal) => {
          if (!refusal) return forward(req, res, body, 'whole');
          refused.set(action, (refused.get(action) ?? 0) + 1);
          answer(res, refusal.status, errorShape(refusal.type, refusal.message));
        },
        () => answer(res, 500, errorShape(serverErrorOf(targetOf(req)), 'proxy: checking limits failed')),
      );
    });
  };

  /** Quota first (AWS throttles before it reads the request), then the request's contents. */
  const limitRefusal = async (req: IncomingMessage, action: string, body: Buffer): Promise<Refusal | undefined> => {
    const service = serviceOf(targetOf(req));
    if (!service || !limiter) return undefined;
    if (!limiter.take(quotaKeyOf(service, action))) return throttled;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8') || '{}');
    } catch {
      return undefined; // not ours to judge: moto answers a malformed body as AWS would
    }
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    return requestRefusal(service, action, parsed as Record<string, unknown>, (arn) => tagKeysOf(req, arn));
  };

  /** The tag keys a resource has now, asked of moto with the caller's own headers (for tags per resource). */
  const tagKeysOf = (req: IncomingMessage, resourceArn: string): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const payload = Buffer.from(JSON.stringify({ resourceArn }));
      const headers = {
        ...req.headers,
        host: upstream.host,
        'x-amz-target': 'AmazonEC2ContainerServiceV20141113.ListTagsForResource',
        'content-length': String(payload.length),
      };
      const up = request(
        { host: upstream.hostname, port: upstream.port, method: 'POST', path: '/', headers },
        (upRes) => {
          const parts: Buffer[] = [];
          upRes.on('data', (c: Buffer) => parts.push(c));
          upRes.on('end', () => {
            try {
              const out = JSON.parse(Buffer.concat(parts).toString('utf8')) as { tags?: { key: string }[] };
              resolve((out.tags ?? []).map((t) => t.key));
            } catch (err) {
              reject(err);
            }
          });
        },
      );
      up.on('error', reject);
      up.end(payload);
    });

  /** What the caller gets of moto's answer: all of it, half of it, or nothing (the connection dropped). */
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, shape: 'whole' | 'truncate' | 'lose') => {
    const headers = { ...req.headers, host: upstream.host };
    const up = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (upRes) => {
        const parts: Buffer[] = [];
        upRes.on('data', (c: Buffer) => parts.push(c));
        upRes.on('end', () => {
          if (shape === 'lose') return req.socket.destroy();
          const payload = modelled(req, body, upRes.statusCode, Buffer.concat(parts));
          const outHeaders = { ...upRes.headers };
          delete outHeaders['transfer-encoding'];
          if (shape === 'truncate') {
            outHeaders['content-length'] = String(payload.length);
            res.writeHead(upRes.statusCode ?? 502, outHeaders);
            // Half the body, flushed, then a clean close (FIN): the client gets the head and some bytes and then
            // a premature end. Destroying at once would reset the connection before anything arrived.
            res.write(payload.subarray(0, Math.max(1, Math.floor(payload.length / 2))), () => res.socket?.end());
            return;
          }
          outHeaders['content-length'] = String(payload.length);
          res.writeHead(upRes.statusCode ?? 502, outHeaders);
          res.end(payload);
        });
      },
    );
    up.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    up.end(body);
  };

  /** The model's own answer to a call moto does not implement, or undefined. */
  const modelAnswer = (req: IncomingMessage, body: Buffer): string | undefined => {
    if (!options.model) return undefined;
    try {
      const out = options.model.respond(targetOf(req), JSON.parse(body.toString('utf8') || '{}'));
      return out === undefined ? undefined : JSON.stringify(out);
    } catch {
      return undefined;
    }
  };

  /** moto's answer, or the one AWS would give where the model knows better (successful JSON answers only). */
  const modelled = (req: IncomingMessage, body: Buffer, status: number | undefined, payload: Buffer): Buffer => {
    if (!options.model || status !== 200) return payload;
    try {
      const request = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      const response = JSON.parse(payload.toString('utf8') || '{}') as Record<string, unknown>;
      const out = options.model.answer(targetOf(req), request, response);
      return out === response ? payload : Buffer.from(JSON.stringify(out));
    } catch {
      return payload; // not JSON: not the model's to change
    }
  };

  const fault = (kind: FaultKind, req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const json = (status: number, payload: string) => answer(res, status, payload);
    switch (kind) {
      case 'throttle':
        return json(400, errorShape('ThrottlingException', 'Rate exceeded'));
      case 'tooManyRequests':
        return json(400, errorShape('TooManyRequestsException', 'Rate exceeded'));
      case 'accessDenied':
        return json(
          400,
          errorShape('AccessDeniedException', 'User: arn:aws:sts::123456789012:assumed-role/x is not authorized'),
        );
      case 'http500':
        return json(500, errorShape(serverErrorOf(targetOf(req)), 'internal error'));
      case 'http503':
        return json(503, errorShape('ServiceUnavailableException', 'unavailable'));
      case 'reset':
        return req.socket.destroy();
      case 'stall':
        return; // hold the socket open, answer nothing
      case 'truncate':
        return forward(req, res, body, 'truncate');
      case 'lose':
        return forward(req, res, body, 'lose');
      case 'endless':
        return endless(res);
    }
  };

  const server: Server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => Object.fromEntries(counts),
    count: (action) => counts.get(action) ?? 0,
    bodies: (action) => [...(bodies.get(action) ?? [])],
    maxInFlight: () => maxInFlight,
    refusals: () => Object.fromEntries(refused),
    resetCounts: () => {
      counts.clear();
      bodies.clear();
      refused.clear();
      maxInFlight = inFlight;
    },
    setQuota: (key, quota) => {
      if (!limiter) throw new Error('setQuota: this proxy was started without limits');
      limiter.set(key, quota);
    },
    refillQuotas: () => limiter?.refill(),
    addFault: (rule) => {
      rules.push({ rule, used: 0 });
    },
    clearFaults: () => {
      rules = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
