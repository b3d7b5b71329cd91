// The engine behaviour suite test/engine/hostile-fields.test.ts, run against the HAProxy engine.
import './helpers/use-haproxy.js';
import '../engine/hostile-fields.test.js';
