// The behaviour suite test/engine/proxy-persistence.test.ts, run against the HAProxy engine.
import './helpers/use-haproxy.js';
import '../engine/proxy-persistence.test.js';
