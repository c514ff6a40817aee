import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/cli.ts';
import { readTemplate } from '../helpers/cloudformation.ts';
import { section } from '../helpers/markdown.ts';

// docs/deploy-cloudformation.md owns the CloudFormation path; its commands run in
// test/integration/cloudformation-deploy.test.ts. These keep its tables in step with the templates (its links are
// checked with every page's, in docs-links.test.ts).

const PAGE = 'docs/deploy-cloudformation.md';
const page = readFileSync(join(ROOT, PAGE), 'utf8');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The first table of a section, as rows of cells (the header and the rule left out). */
function table(text: string): string[][] {
  const lines = text.split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  assert.ok(first >= 0, 'no table');
  const end = lines.findIndex((l, i) => i > first && !l.startsWith('|'));
  return lines.slice(first + 2, end < 0 ? undefined : end).map((l) =>
    l
      .slice(1, -1)
      .split(' | ')
      .map((c) => c.trim()),
  );
}

const ticked = (cell: string) => [...cell.matchAll(/`([^`]*)`/g)].map((m) => m[1]!);

/** A parameter table as name -> default: `—` none (required), `empty` the empty string, else the ticked values. */
function documentedDefaults(heading: string): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [names, defaults] of table(section(page, heading))) {
    const values = ticked(defaults!);
    ticked(names!).forEach((name, i) => {
      out[name] = defaults === '—' ? undefined : defaults === 'empty' ? '' : values[i];
    });
  }
  return out;
}

function templateDefaults(path: string): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(readTemplate(join(ROOT, path)).Parameters).map(([name, spec]) => [
      name,
      spec.Default === undefined ? undefined : String(spec.Default),
    ]),
  );
}

describe('docs/deploy-cloudformation.md', () => {
  it('is linked from the deploy section of README', () => {
    assert.ok(section(readme, '## Deploying on ECS').includes(`](${PAGE})`));
  });

  const tables: [string, string][] = [
    ['## 2. The watcher stack', 'manifests/cloudformation/watcher.yaml'],
    ['## 3. The app stack', 'manifests/cloudformation/app.yaml'],
  ];
  for (const [heading, template] of tables) {
    it(`lists every parameter of ${template} under "${heading}", with its default`, () => {
      assert.deepEqual(documentedDefaults(heading), templateDefaults(template));
    });
  }

  it('names the alarms and the metrics the watcher template alarms on', () => {
    const resources = readTemplate(join(ROOT, 'manifests/cloudformation/watcher.yaml')).Resources;
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const rows = table(section(page, '### The alarms'));
    assert.deepEqual(
      rows.map(([name, metric]) => [ticked(name!)[0], ticked(metric!)[0]]),
      alarms.map((a) => {
        const p = a.Properties as Record<string, unknown>;
        return [
          String((p.AlarmName as Record<string, string>)['Fn::Sub']).replace('${Prefix}', 'PREFIX'),
          p.MetricName,
        ];
      }),
    );
  });
});
