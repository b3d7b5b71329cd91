// lbappliance/cdktf: CDKTF bindings of the lbappliance provider, generated from its schema
// (provider/cdktf/generated, written by `npm run generate`). Namespaces as CDKTF names them:
// `provider.LbapplianceProvider`, `virtualService.VirtualService`,
// `realServer.RealServer`, `certificate.Certificate`, `haPair.HaPair`, and the data sources
// `dataLbapplianceVirtualService`, `dataLbapplianceCertificate`, `dataLbapplianceOverview`.
export * from './generated/index.js';
