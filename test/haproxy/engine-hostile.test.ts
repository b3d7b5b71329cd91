// The engine behaviour suite test/engine/hostile.test.ts, run against the HAProxy engine.
import './helpers/use-haproxy.js';
import '../engine/hostile.test.js';
