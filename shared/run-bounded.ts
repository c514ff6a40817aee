/** Runs jobs with at most `limit` in flight; the first thrown error rejects after in-flight jobs settle. */
export async function runBounded(jobs: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  let failed: { err: unknown } | undefined;
  const worker = async () => {
    while (next < jobs.length && !failed) {
      const job = jobs[next++]!;
      try {
        await job();
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  if (failed) throw failed.err;
}
