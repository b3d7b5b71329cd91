// The script check and feedback agent suite test/engine/script-agent-checks.test.ts, run against the HAProxy engine.
import './helpers/use-haproxy.js';
import '../engine/script-agent-checks.test.js';
