// Every resource and data source of the lbappliance provider, for every adapter.
import { alertMail } from './alert-mail.js';
import { certificate } from './certificate.js';
import { certificateData } from './certificate-data.js';
import { directory } from './directory.js';
import { haPair } from './ha-pair.js';
import { overviewData } from './overview-data.js';
import { realServer } from './real-server.js';
import { snmpSettings } from './snmp.js';
import { syslogCollector } from './syslog-collector.js';
import type { DataSourceDefinition, ResourceDefinition } from './types.js';
import { virtualService } from './virtual-service.js';
import { virtualServiceData } from './virtual-service-data.js';

/** The provider's name: Terraform type prefix `lbappliance_`, Pulumi package `lbappliance`. */
export const PROVIDER_NAME = 'lbappliance';

/** The managed resources. */
export const resources: readonly ResourceDefinition[] = [virtualService, realServer, certificate, haPair, directory, snmpSettings, syslogCollector, alertMail];

/** The data sources. */
export const dataSources: readonly DataSourceDefinition[] = [virtualServiceData, certificateData, overviewData];
