#!/usr/bin/env node
// Prints "N passed, N failed" from vitest's JSON report and exits non-zero on any failure,
// counting a test file that could not even load as a failure, and counting as one failure a
// vitest run that exited non-zero with every test passed (an unhandled error, which the
// report does not record): pass vitest's exit status as the second argument.
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? 'test/results/vitest.json';
const vitestStatus = Number(process.argv[3] ?? 0);
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
let failed = (report.numFailedTests ?? 0) + brokenFiles.length;
if (failed === 0 && vitestStatus !== 0) {
  console.log(`vitest exited with ${vitestStatus} although every test passed: an unhandled error (see above), counted as one failure`);
  failed = 1;
}
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
if (skipped > 0) console.log(`${skipped} skipped`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || report.success === false ? 1 : 0);
