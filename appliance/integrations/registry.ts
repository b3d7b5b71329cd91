// The one place an integration with the hospital's operations (syslog, SNMP, e-mail alerts,
// ...) is registered. Each is one module exporting an IntegrationFactory (integration.ts); the composition
// root starts every registered one with the same context and closes them on stop. An
// integration reads its own settings from the stored configuration (replicated in a pair
// like the rest), listens to the operational events, and never takes the appliance down:
// a failure to start or to reach its peer is logged, counted and retried by the integration.
import type { Logger } from 'pino';
import type { Integration, IntegrationContext, IntegrationFactory } from './integration.js';
import { alertMailIntegration } from './mail/alert-mail-integration.js';
import { syslogIntegration } from './syslog/syslog-integration.js';
import { snmpIntegration } from './snmp/snmp-integration.js';

/** Every integration, in start order. */
export const INTEGRATIONS: readonly IntegrationFactory[] = [
  syslogIntegration,
  alertMailIntegration,
  snmpIntegration,
];

/** Starts every registered integration; one that fails to start is logged and left out. */
export async function startIntegrations(context: IntegrationContext, factories: readonly IntegrationFactory[] = INTEGRATIONS): Promise<Integration[]> {
  const running: Integration[] = [];
  for (const factory of factories) {
    try {
      running.push(await factory.start({ ...context, logger: context.logger.child({ integration: factory.name }) }));
    } catch (err) {
      context.logger.error({ err, integration: factory.name }, 'an integration failed to start; the appliance runs without it');
    }
  }
  return running;
}

/** Closes integrations, last started first; a failure to close is logged. */
export async function closeIntegrations(running: readonly Integration[], logger: Logger): Promise<void> {
  for (const integration of [...running].reverse()) {
    try {
      await integration.close();
    } catch (err) {
      logger.error({ err, integration: integration.name }, 'an integration failed to close');
    }
  }
}
