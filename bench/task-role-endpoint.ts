import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

// The ECS task-role credentials endpoint on loopback: on ECS the SDK finds no credentials in the environment and
// walks its default chain (the shared ini files, a credential process, a web identity token) to the container
// endpoint. A render started with AWS_CONTAINER_CREDENTIALS_FULL_URI pointing here takes that path, loading what an
// ECS task loads; moto accepts whatever keys it returns.

export interface TaskRoleEndpoint {
  /** For AWS_CONTAINER_CREDENTIALS_FULL_URI. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startTaskRoleEndpoint(): Promise<TaskRoleEndpoint> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        AccessKeyId: 'testing',
        SecretAccessKey: 'testing',
        Token: 'testing-task-role-session',
        Expiration: new Date(Date.now() + 3600_000).toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v2/credentials/bench-task-role`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
