// The behaviour suite test/engine/revision-steps.test.ts, run against the HAProxy engine.
import './helpers/use-haproxy.js';
import '../engine/revision-steps.test.js';
