// The application health check suite test/engine/application-checks.test.ts, run against the HAProxy engine.
import './helpers/use-haproxy.js';
import '../engine/application-checks.test.js';
