// The engine behaviour suite test/engine/observability.test.ts, run against the HAProxy engine.
import './helpers/use-haproxy.js';
import '../engine/observability.test.js';
