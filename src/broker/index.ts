export { startBroker, type Broker, type BrokerOptions, type TokenGrant } from './server.js';
export type { HostLookup } from './upstream.js';
