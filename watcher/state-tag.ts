import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The watcher's state, kept on each service as the value of the tag `secrets-init/fingerprint` (so a scheduled run
 * needs no store of its own). One line of `key=value` fields, every character one an ECS tag value allows:
 *
 *   v2 s=deploying f=<fingerprint> b=<binding> d=<deployment> t=<time> w=<redeployed> r=<run> x=<flips> [n=<count>] m=<mac>
 *
 * - `s` what the watcher knows of the service's tasks:
 *   `ok` they run fingerprint `f` (recorded, or a redeploy to `f` completed);
 *   `pending` a redeploy to `f` was claimed at `t` by run `r` and may have happened (written before UpdateService:
 *     a lost answer, a refused tag or a watcher killed in between can never hide that a redeploy may have started);
 *   `deploying` UpdateService to `f` was accepted at `t`, its deployment `d` not yet reported;
 *   `failed` the deployment to `f` failed or was rolled back (reported once; not retried for the same versions).
 * - `f` the fingerprint (fingerprint.ts); `b` a digest of the binding (which ids the service is bound to);
 * - `d` the deployment the state is about (the PRIMARY deployment id), `-` when none;
 * - `t` when the state was written, `w` when this watcher last started a redeploy of it (`-` never): seconds;
 * - `r` the run that wrote it; `x` how many times in a row a watcher with another binding overwrote it;
 * - `n` how many redeploys `w` stands for, for the cap: that one and those within a cap window before it (each
 *   started within a window of the one after it); written only when more than one, so absent means one;
 * - `m` an HMAC-SHA256 (first 128 bits, base64url) over the service ARN and the fields before it, with a key only
 *   the watcher's role can read; `-` when the watcher runs without one. A principal who may only tag the service can
 *   then neither forge a state nor move one to another service.
 */
export const STATE_VERSION = 'v2';

export type StateKind = 'ok' | 'pending' | 'deploying' | 'failed';

export interface ServiceStateTag {
  readonly state: StateKind;
  readonly fingerprint: string;
  readonly binding: string;
  /** A deployment id (`ecs-svc/1234567890123456789`), or null. */
  readonly deployment: string | null;
  /** Seconds since the epoch. */
  readonly writtenAt: number;
  /** Seconds since the epoch; null if this watcher never redeployed the service. */
  readonly redeployedAt: number | null;
  readonly run: string;
  readonly flips: number;
  /**
   * How many redeploys `redeployedAt` stands for against the cap: that one and those started within a cap window
   * before it (a chain, each within a window of the next: counting them all errs toward holding one back). Absent:
   * one, or none without `redeployedAt`.
   */
  readonly redeploys?: number;
}

/** What a tag value says, and how far it can be trusted. */
export type ReadState =
  /** No tag: first sight, or stripped. */
  | { readonly trust: 'absent' }
  /** Written by this version of the watcher; `signed` when its MAC checked out with our key. */
  | { readonly trust: 'signed' | 'unsigned'; readonly tag: ServiceStateTag }
  /** A MAC that does not check out (forged, another key, another service's tag copied over): never used. */
  | { readonly trust: 'invalid'; readonly reason: string }
  /** Unsigned where a key is in use: not evidence (a migration from an unsigned watcher, or a forgery). */
  | { readonly trust: 'untrusted'; readonly tag: ServiceStateTag }
  /** The first watcher's `v1:<sha256>`: only a fingerprint. */
  | { readonly trust: 'v1'; readonly fingerprint: string }
  /** A format this watcher does not know (a newer watcher's): left alone, never overwritten. */
  | { readonly trust: 'unknown'; readonly version: string };

const FIELDS = ['s', 'f', 'b', 'd', 't', 'w', 'r', 'x', 'n'] as const;
const STATES: readonly StateKind[] = ['ok', 'pending', 'deploying', 'failed'];
const TOKEN = /^[A-Za-z0-9_./:=+@-]+$/;

/** The tag value for a state, with its MAC (or `m=-` without a key). */
export function encodeState(tag: ServiceStateTag, serviceArn: string, key: Buffer | undefined): string {
  const body = [
    STATE_VERSION,
    `s=${tag.state}`,
    `f=${tag.fingerprint}`,
    `b=${tag.binding}`,
    `d=${tag.deployment ?? '-'}`,
    `t=${tag.writtenAt}`,
    `w=${tag.redeployedAt ?? '-'}`,
    `r=${tag.run}`,
    `x=${tag.flips}`,
    ...((tag.redeploys ?? 1) > 1 && tag.redeployedAt !== null ? [`n=${tag.redeploys}`] : []),
  ].join(' ');
  return `${body} m=${key ? mac(key, serviceArn, body) : '-'}`;
}

/** Reads a tag value: what it says and whether it is evidence (see ReadState). Never throws. */
export function decodeState(value: string | undefined, serviceArn: string, key: Buffer | undefined): ReadState {
  if (value === undefined) return { trust: 'absent' };
  if (/^v1:[0-9a-f]{64}$/.test(value)) return { trust: 'v1', fingerprint: value };
  const [version, ...parts] = value.split(' ');
  if (version !== STATE_VERSION) {
    return { trust: 'unknown', version: /^v\d{1,3}$/.test(version ?? '') ? version! : 'unrecognised' };
  }
  const fields = new Map<string, string>();
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq <= 0 || fields.has(p.slice(0, eq))) return { trust: 'invalid', reason: 'malformed' };
    fields.set(p.slice(0, eq), p.slice(eq + 1));
  }
  const tag = parseFields(fields);
  const m = fields.get('m');
  if (!tag || m === undefined) return { trust: 'invalid', reason: 'malformed' };
  const body = value.slice(0, value.lastIndexOf(' m='));
  if (m === '-') return key ? { trust: 'untrusted', tag } : { trust: 'unsigned', tag };
  if (!key) return { trust: 'unsigned', tag };
  const expected = Buffer.from(mac(key, serviceArn, body));
  const given = Buffer.from(m);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { trust: 'invalid', reason: 'signature does not match' };
  }
  return { trust: 'signed', tag };
}

function parseFields(f: ReadonlyMap<string, string>): ServiceStateTag | undefined {
  if ([...f.keys()].some((k) => k !== 'm' && !(FIELDS as readonly string[]).includes(k))) return undefined;
  const [s, fp, b, d, t, w, r, x, n] = FIELDS.map((k) => f.get(k));
  if (!STATES.includes(s as StateKind) || !fp || !b || !d || !r || !TOKEN.test(r) || !TOKEN.test(d)) return undefined;
  if (!/^[0-9a-f]{32}$/.test(fp) || !/^[0-9a-f]{8}$/.test(b)) return undefined;
  const seconds = (v: string | undefined) => (v !== undefined && /^\d{1,12}$/.test(v) ? Number(v) : undefined);
  const writtenAt = seconds(t);
  const redeployedAt = w === '-' ? null : seconds(w);
  const flips = x !== undefined && /^\d{1,3}$/.test(x) ? Number(x) : undefined;
  if (writtenAt === undefined || redeployedAt === undefined || flips === undefined) return undefined;
  // Only beside a `w`, and only more than one (what encodeState writes): one state, one spelling, one MAC.
  const redeploys = n === undefined ? undefined : /^[1-9]\d{0,11}$/.test(n) && Number(n) > 1 ? Number(n) : 0;
  if (redeploys === 0 || (redeploys !== undefined && redeployedAt === null)) return undefined;
  return {
    state: s as StateKind,
    fingerprint: fp,
    binding: b,
    deployment: d === '-' ? null : d,
    writtenAt,
    redeployedAt,
    run: r,
    flips,
    ...(redeploys !== undefined && { redeploys }),
  };
}

function mac(key: Buffer, serviceArn: string, body: string): string {
  return createHmac('sha256', key).update(`${serviceArn}\n${body}`).digest().subarray(0, 16).toString('base64url');
}
