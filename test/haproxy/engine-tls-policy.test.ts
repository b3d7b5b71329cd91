// The behaviour suite test/engine/tls-policy.test.ts, run against the HAProxy engine.
import './helpers/use-haproxy.js';
import '../engine/tls-policy.test.js';
