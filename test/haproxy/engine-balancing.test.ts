// The engine behaviour suite test/engine/balancing.test.ts, run against the HAProxy engine.
import './helpers/use-haproxy.js';
import '../engine/balancing.test.js';
