import { constants, promises as fsp } from 'node:fs';

/**
 * Reads a file that must be a regular file. Opened non-blocking, so a FIFO or a device in its place is refused
 * at once instead of blocking a worker thread that no deadline can interrupt. With `maxBytes`, a larger file is
 * refused (code EFBIG) without reading more than one byte past the limit.
 */
export async function readRegularFile(path: string, maxBytes?: number): Promise<Buffer> {
  const fh = await fsp.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
    if (maxBytes === undefined) return await fh.readFile();
    const tooLarge = () => Object.assign(new Error(`larger than ${maxBytes} bytes`), { code: 'EFBIG' });
    if (st.size > maxBytes) throw tooLarge();
    // The size from stat may be stale (a file still being written): read up to one byte past the limit.
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n < buf.length; n += got) {
      ({ bytesRead: got } = await fh.read(buf, n, buf.length - n, n));
    }
    if (n > maxBytes) throw tooLarge();
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}
