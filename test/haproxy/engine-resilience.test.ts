// The engine behaviour suite test/engine/resilience.test.ts, run against the HAProxy engine.
import './helpers/use-haproxy.js';
import '../engine/resilience.test.js';
