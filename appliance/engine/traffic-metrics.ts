// The traffic metrics every engine reports, by the same names, help texts and labels: the
// embedded engine counts them itself, the HAProxy engine feeds them from HAProxy's stats, so
// dashboards and alerts (examples/monitoring) work whichever engine runs.

/** The engines' traffic counters: name, help and labels. */
export const TRAFFIC_COUNTERS = [
  { name: 'lbappliance_virtual_service_requests_total', help: 'HTTP responses sent to clients, by virtual service and status class (2xx, 4xx, ...).', labelNames: ['virtual_service', 'code'] },
  { name: 'lbappliance_virtual_service_bytes_total', help: 'Bytes on client connections: in = received from clients, out = sent to clients.', labelNames: ['virtual_service', 'direction'] },
  { name: 'lbappliance_virtual_service_connections_total', help: 'Client connections accepted.', labelNames: ['virtual_service'] },
  { name: 'lbappliance_real_server_requests_total', help: 'HTTP requests (and TCP sessions) sent to the real server.', labelNames: ['virtual_service', 'real_server'] },
  { name: 'lbappliance_real_server_bytes_total', help: 'Bytes on connections to the real server: in = received from it, out = sent to it.', labelNames: ['virtual_service', 'real_server', 'direction'] },
  { name: 'lbappliance_real_server_connections_total', help: 'Connections opened to the real server.', labelNames: ['virtual_service', 'real_server'] },
  { name: 'lbappliance_virtual_service_refused_total', help: 'Client connections refused because the virtual service was at its limits.maxConnections (whenFull: refuse).', labelNames: ['virtual_service'] },
  { name: 'lbappliance_real_server_responses_total', help: 'HTTP responses received from the real server, by status class (2xx, 5xx, ...).', labelNames: ['virtual_service', 'real_server', 'code'] },
] as const;
