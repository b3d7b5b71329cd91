#!/usr/bin/env node
// Prints "N passed, N failed" from vitest's JSON report and exits non-zero on any failure,
// counting a test file that could not even load as a failure.
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? 'test/results/vitest.json';
let report;
try {
  report = JSON.parse(readFileSync(path, 'utf8'));
} catch (err) {
  console.log(`no test report at ${path}: ${err.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const brokenFiles = (report.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'));
for (const f of brokenFiles) console.log(`test file failed to run: ${f.name}: ${(f.message ?? '').split('\n')[0]}`);
const failed = (report.numFailedTests ?? 0) + brokenFiles.length;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
if (skipped > 0) console.log(`${skipped} skipped`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || report.success === false ? 1 : 0);
