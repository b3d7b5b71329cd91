// The engine behaviour suite test/engine/protocols.test.ts, run against the HAProxy engine.
import './helpers/use-haproxy.js';
import '../engine/protocols.test.js';
