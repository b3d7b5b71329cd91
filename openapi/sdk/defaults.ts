// The SDK's defaults that code without a client needs (the provider's settings, the CLI's
// flags), in a module of their own: importing them must not load the HTTP transport
// (undici), which a Terraform plugin process that only validates never uses.

/** The administrator every client uses when no username is given. */
export const DEFAULT_USERNAME = 'loadbalancer';
