// The behaviour suite test/engine/limits-fallback.test.ts, run against the HAProxy engine.
import './helpers/use-haproxy.js';
import '../engine/limits-fallback.test.js';
