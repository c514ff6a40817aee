import { constants, promises as fsp } from 'node:fs';

/**
 * Reads a file that must be a regular file. Opened non-blocking, so a FIFO or a device in its place is refused
 * at once instead of blocking a worker thread that no deadline can interrupt.
 */
export async function readRegularFile(path: string): Promise<Buffer> {
  const fh = await fsp.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!(await fh.stat()).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}
