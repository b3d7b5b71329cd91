// The engine behaviour suite test/engine/fuzzed-vip.test.ts, run against the HAProxy engine.
import './helpers/use-haproxy.js';
import '../engine/fuzzed-vip.test.js';
