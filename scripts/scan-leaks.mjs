// Suite-wide leak scan: every secret value a test seeded (written to SEED_DIR by the test helpers) is looked
// for in the complete output of the test runs. Prints counts and names of files, never the values.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [seedDir, ...logs] = process.argv.slice(2);
if (!seedDir || logs.length === 0) {
  console.error('usage: node scripts/scan-leaks.mjs SEED_DIR LOG...');
  process.exit(2);
}
const seeds = new Set();
for (const f of readdirSync(seedDir)) for (const v of JSON.parse(readFileSync(join(seedDir, f), 'utf8'))) seeds.add(v);
if (seeds.size === 0) {
  console.error('scan-leaks: no seeded values were recorded; the tests did not run');
  process.exit(1);
}
let leaks = 0;
for (const log of logs) {
  const text = readFileSync(log, 'utf8');
  const found = [...seeds].filter((s) => text.includes(s) || text.includes(JSON.stringify(s).slice(1, -1)));
  leaks += found.length;
  console.log(`scan-leaks: ${log}: ${found.length} of ${seeds.size} seeded values found`);
}
process.exit(leaks === 0 ? 0 : 1);
