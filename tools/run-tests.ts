/**
 * `npm test`: unit tests (vitest, Node) then browser tests (Playwright, Debian Chromium), with one closing line
 * that counts both: "N passed, N failed".
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';

mkdirSync('test-reports', { recursive: true });
const extra = process.argv.slice(2);

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const r = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

const unitStatus = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile=test-reports/unit.json']);
const e2eStatus = run('npx', ['playwright', 'test', ...extra], { PLAYWRIGHT_JSON_OUTPUT_NAME: 'test-reports/e2e.json' });

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
}
interface PlaywrightReport {
  stats: { expected: number; unexpected: number; flaky: number; skipped: number };
}
function read<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
const unit = read<VitestReport>('test-reports/unit.json');
const e2e = read<PlaywrightReport>('test-reports/e2e.json');
const passed = (unit?.numPassedTests ?? 0) + (e2e ? e2e.stats.expected + e2e.stats.flaky : 0);
const failed = (unit?.numFailedTests ?? 0) + (e2e?.stats.unexpected ?? 0) + (unit ? 0 : 1) + (e2e ? 0 : 1);
const skipped = e2e?.stats.skipped ?? 0;
console.log(`\nunit: ${unit?.numPassedTests ?? '?'} passed, browser: ${e2e ? e2e.stats.expected + e2e.stats.flaky : '?'} passed`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(unitStatus !== 0 || e2eStatus !== 0 || failed > 0 ? 1 : 0);
