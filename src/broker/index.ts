export { startBroker, type Broker, type BrokerOptions, type TokenGrant } from './server.js';
