// The one catalogue of the providers' own error codes (`LBP_*`), shared by the Terraform
// provider and the Pulumi plugin and documented in docs/errors.md beside the appliance's
// `LB_*` codes (test/contract/error-catalogues.test.ts keeps the three in step). Rules the
// appliance enforces are not repeated here: plan-time checks of those carry the appliance's
// own code (openapi/sdk/rules.ts), so plan and apply say the same thing.

/** Every provider-side code with what it means (the docs' wording). */
export const PROVIDER_ERRORS = {
  LBP_CONFIGURATION: 'The provider settings do not say how to reach the appliance: a missing or malformed `endpoint`, a missing `password`, an `insecure` flag that is not a boolean.',
  LBP_INVALID_VALUE: 'An attribute value breaks the contract (type, bounds, enum, pattern or format); the diagnostic points at it. Checked at plan time.',
  LBP_MISSING_VALUE: 'A required attribute is not set.',
  LBP_READ_ONLY: 'A computed attribute (set by the appliance) was given a value.',
  LBP_CERTIFICATE_SOURCE: 'A certificate needs exactly one of `certificate_pem` (with `private_key_pem`), `pfx` or `self_signed`.',
  LBP_KEY_WITHOUT_CERTIFICATE: '`private_key_pem` is set without `certificate_pem` or `pfx`.',
  LBP_KEY_IN_CERTIFICATE: '`certificate_pem` holds a private key, which would be stored in the state: put it in the write-only `private_key_pem`.',
  LBP_BAD_CERTIFICATE: '`certificate_pem` is not a PEM X.509 certificate chain.',
  LBP_BAD_KEY: '`private_key_pem` is not a usable PEM private key (or its `passphrase` does not open it).',
  LBP_KEY_MISMATCH: '`private_key_pem` is not the key of the first certificate in `certificate_pem`.',
  LBP_MISSING_KEY: 'The certificate material is sent (a create, a new `certificate_pem` or `private_key_version`) without its `private_key_pem`. An imported certificate left as it is needs none.',
  LBP_SNMP_SECRET_MISSING: 'An SNMP community, v3 user or v2c trap destination of `lbappliance_snmp` has no secret in its write-only map (`community_strings`, `user_auth_passwords`, `user_priv_passwords`, `trap_communities`). Checked at plan time.',
  LBP_SNMP_USER_UNKNOWN: 'An SNMP trap destination of `lbappliance_snmp` names a user that is not in `users` (v3), names none (v3), or names one while it is v2c. Checked at plan time.',
  LBP_WRITE_ONLY_UNSUPPORTED: 'The Terraform CLI is older than 1.11 and cannot send write-only attributes (`private_key_pem`, `peer_password`).',
  LBP_BAD_IMPORT_ID: 'An import id does not have the documented form (`vs-…`, `vs-…/rs-…`, `cert-…`, `ha-pair`, `snmp`).',
  LBP_NOT_FOUND: 'A lookup found nothing: a data source label no object has, or a real server whose `virtual_service_id` names no virtual service on the appliance.',
  LBP_MISSING_INPUT: 'An input the operation needs is missing (e.g. the write-only key when rotating).',
  LBP_TIMEOUT: 'A wait ran out of time (a real server still draining after `drain_timeout`).',
  LBP_VIP_NOT_LISTENING: 'A warning, not an error: the virtual service was created or changed, but the appliance does not listen on it (the VIP is down with the reason, e.g. an address this host does not have, `EADDRNOTAVAIL`, until an HA takeover or the network team adds it; or an appliance run with `--engine none`). Terraform shows it as a warning of the apply, Pulumi as a warning on the resource; see docs/terraform.md to make a pipeline fail on it.',
  LBP_INTERNAL: 'An unexpected error in the provider; the message carries its stack.',
  LBP_NOT_A_PLUGIN: 'The Terraform provider executable was started by hand rather than by Terraform (no plugin handshake variables).',
  LBP_PROTOCOL_VERSION: 'Terraform offered no plugin protocol version 6.',
  LBP_UNKNOWN_TYPE: 'Pulumi asked for a resource type this provider does not have.',
  LBP_NOT_CONFIGURED: 'A Pulumi resource call came before a successful Configure (or with provider settings still unknown in a preview).',
  LBP_UNKNOWN_PROPERTY: 'A Pulumi resource was given a property it does not have.',
  LBP_UNSUPPORTED: 'Pulumi asked for an operation this provider does not offer.',
} as const;

/** A provider-side error code. */
export type ProviderErrorCode = keyof typeof PROVIDER_ERRORS;
