// The demo app of Dockerfile.app: it stands in for a real service that gets its secrets from the
// environment that secrets-entrypoint loaded. It prints one JSON report on stdout and never a value:
//  - which keys are present (REPORT_KEYS, default SECRETS_REQUIRED), and the names of all variables;
//  - whether the file GOOGLE_APPLICATION_CREDENTIALS names is readable and is a service-account JSON;
//  - whether the secrets directory is writable (it should not be: the app mounts it read-only);
//  - digests, only when REPORT_DIGEST_KEY is set: HMAC-SHA256(key, value), so tests can compare values
//    without printing them. A plain sha256 of a short value (a port, a host) is reversible by guessing;
//    an HMAC under a per-run key is not, for anyone who does not hold the key.
// Exit status: 0 when every reported key is present and non-empty and the credentials file (when named)
// is readable; 1 otherwise. With --stay it keeps running afterwards, like a server, until SIGTERM or
// SIGINT, and then exits 0 (it is PID 1 when the entrypoint exec'd it, so it must handle signals itself).
import { createHmac } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

const env = process.env;
const names = (env.REPORT_KEYS ?? env.SECRETS_REQUIRED ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

function credentials(path) {
  if (!path) return { named: false };
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8'));
    const isObject = typeof doc === 'object' && doc !== null;
    return {
      named: true,
      path,
      readable: true,
      parses: true,
      type: isObject && typeof doc.type === 'string' ? doc.type : null,
      hasPrivateKey: isObject && typeof doc.private_key === 'string' && doc.private_key.length > 0,
    };
  } catch (err) {
    const readable = !(err && typeof err === 'object' && 'code' in err);
    return { named: true, path, readable, parses: false, error: err?.code ?? 'invalid JSON' };
  }
}

function writable(dir) {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const present = names.filter((n) => (env[n] ?? '') !== '');
const missing = names.filter((n) => (env[n] ?? '') === '');
const gcp = credentials(env.GOOGLE_APPLICATION_CREDENTIALS);
const report = {
  app: 'secrets-demo',
  user: { uid: process.getuid?.(), gid: process.getgid?.(), groups: process.getgroups?.(), name: safeUserName() },
  pid: process.pid,
  present,
  missing,
  envNames: Object.keys(env).sort(),
  gcpCredentials: gcp,
  secretsDirWritable: writable(env.SECRETS_DIR ?? '/run/secrets'),
};
if (env.REPORT_DIGEST_KEY) {
  report.digests = Object.fromEntries(
    present.map((n) => [n, createHmac('sha256', env.REPORT_DIGEST_KEY).update(env[n]).digest('hex')]),
  );
  if (gcp.readable) {
    const bytes = readFileSync(env.GOOGLE_APPLICATION_CREDENTIALS);
    report.gcpCredentials.digest = createHmac('sha256', env.REPORT_DIGEST_KEY).update(bytes).digest('hex');
  }
}
process.stdout.write(`${JSON.stringify(report)}\n`);
const ok = missing.length === 0 && (!gcp.named || gcp.parses);
process.exitCode = ok ? 0 : 1;

if (process.argv.includes('--stay')) {
  const timer = setInterval(() => {}, 1 << 30);
  for (const sig of ['SIGTERM', 'SIGINT']) {
    process.once(sig, () => {
      clearInterval(timer);
      process.stdout.write(`${JSON.stringify({ app: 'secrets-demo', stopped: sig })}\n`);
    });
  }
}

function safeUserName() {
  try {
    return userInfo().username;
  } catch {
    return null; // a uid without a passwd entry
  }
}
