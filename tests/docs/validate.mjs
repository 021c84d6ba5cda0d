// Validates the two API documents served by sluice with the validators clients use:
//   openapi/sluice.yaml    @apidevtools/swagger-parser (OpenAPI 3.1 schema + $refs), then
//                          @redocly/cli lint with tests/docs/redocly.yaml (the rule decisions are there)
//   openapi/asyncapi.yaml  @asyncapi/parser (the AsyncAPI schema and its Spectral rules)
//
//   node tests/docs/validate.mjs          (ctest runs it as the "docs_validate" test; `make test` runs npm ci)
//
// Prints every validator message; exit 1 when any validator reports an error. AsyncAPI warnings are printed
// (grouped by rule) but do not fail: the ones left are style advice (messageId, contact, tags, the 3.x format).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Parser } from '@asyncapi/parser';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const OPENAPI = join(root, 'openapi/sluice.yaml');
const ASYNCAPI = join(root, 'openapi/asyncapi.yaml');
const require = createRequire(import.meta.url);
let failed = 0;

function report(name, ok, text) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
  if (text) console.log(text.replace(/^/gm, '     '));
  if (!ok) failed++;
}

async function swaggerParser() {
  try {
    await SwaggerParser.validate(OPENAPI);
    report('swagger-parser validate openapi/sluice.yaml', true);
  } catch (err) {
    report('swagger-parser validate openapi/sluice.yaml', false, err.message);
  }
}

function redocly() {
  const cli = join(dirname(require.resolve('@redocly/cli/package.json')), 'bin/cli.js');
  const r = spawnSync(process.execPath, [cli, 'lint', '--config', join(here, 'redocly.yaml'), '--format', 'stylish',
    '--max-problems', '200', OPENAPI], { encoding: 'utf8', env: { ...process.env, REDOCLY_TELEMETRY: 'off',
    REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' } });
  const out = `${r.stdout}${r.stderr}`.trim();
  report('redocly lint openapi/sluice.yaml', r.status === 0, r.status === 0 ? '' : out || `exit ${r.status}`);
}

const SEVERITY = ['error', 'warning', 'info', 'hint'];

async function asyncapi() {
  const diags = await new Parser().validate(readFileSync(ASYNCAPI, 'utf8'), { source: ASYNCAPI });
  const errors = diags.filter((d) => d.severity === 0);
  const lines = errors.map((d) => `error ${d.code} at ${d.path.join('/') || '/'} (line ${d.range.start.line + 1}): ${d.message}`);
  const byRule = new Map();
  for (const d of diags.filter((x) => x.severity !== 0)) {
    const k = `${SEVERITY[d.severity]} ${d.code}: ${d.message}`;
    byRule.set(k, (byRule.get(k) ?? 0) + 1);
  }
  for (const [k, n] of byRule) lines.push(`${k}${n > 1 ? ` (${n} places)` : ''}`);
  report('@asyncapi/parser validate openapi/asyncapi.yaml', errors.length === 0, lines.join('\n'));
}

await swaggerParser();
redocly();
await asyncapi();
console.log(failed ? `${failed} validator(s) reported errors` : 'all documents valid');
process.exit(failed ? 1 : 0);
