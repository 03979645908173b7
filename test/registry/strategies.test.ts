/** Validation of the multi-secret strategies (src/registry/validate-strategies.ts) and the shipped entries that use them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRegistry, validateAuthSpec } from '../../src/registry/load.js';

const ok: Array<[string, unknown, string[]]> = [
  ['sigv4', { strategy: 'aws-sigv4', region: 'us-east-1', service: 'bedrock' }, ['accessKeyId', 'secretAccessKey']],
  ['sigv4 + session', { strategy: 'aws-sigv4', region: 'eu-west-1', service: 's3' }, ['accessKeyId', 'secretAccessKey', 'sessionToken']],
  ['hmac minimal', { strategy: 'hmac', algorithm: 'sha512', header: 'X-Sig' }, ['secret']],
  ['mtls', { strategy: 'mtls' }, ['cert', 'key']],
  ['oauth2 refresh', { strategy: 'oauth2', grant: 'refresh_token', tokenUrl: 'https://a.example.com/token' }, ['clientId', 'refreshToken']],
  ['oauth2 public client', { strategy: 'oauth2', grant: 'refresh_token', tokenUrl: 'https://a.example.com/t', scopes: ['a', 'b'] }, ['clientId', 'refreshToken']],
  ['oauth2 client credentials', { strategy: 'oauth2', grant: 'client_credentials', tokenUrl: 'https://a.example.com/t' }, ['clientId', 'clientSecret']],
];
for (const [name, spec, fields] of ok) test(`valid: ${name}`, () => assert.doesNotThrow(() => validateAuthSpec(spec, 'x', fields)));

const bad: Array<[string, unknown, string[], RegExp]> = [
  ['sigv4 without secret key', { strategy: 'aws-sigv4', region: 'us-east-1', service: 'bedrock' }, ['accessKeyId'], /secretAccessKey/],
  ['sigv4 bad region', { strategy: 'aws-sigv4', region: 'US EAST', service: 'bedrock' }, ['accessKeyId', 'secretAccessKey'], /region/],
  ['sigv4 unknown field', { strategy: 'aws-sigv4', region: 'us-east-1', service: 's3', x: 1 }, ['accessKeyId', 'secretAccessKey'], /unknown field/],
  ['hmac md5', { strategy: 'hmac', algorithm: 'md5', header: 'x' }, ['secret'], /sha256/],
  ['hmac template without timestamp or nonce', { strategy: 'hmac', algorithm: 'sha256', header: 'x', template: '{{method}}{{path}}' }, ['secret'], /replay/],
  ['hmac template naming a secret field', { strategy: 'hmac', algorithm: 'sha256', header: 'x', template: '{{timestamp}}{{secret}}' }, ['secret'], /unknown field/],
  ['hmac value without signature', { strategy: 'hmac', algorithm: 'sha256', header: 'x', value: 'v1' }, ['secret'], /signature/],
  ['mtls without key', { strategy: 'mtls' }, ['cert'], /key/],
  ['oauth2 http', { strategy: 'oauth2', grant: 'refresh_token', tokenUrl: 'http://a.example.com/t' }, ['clientId', 'refreshToken'], /https/],
  ['oauth2 port', { strategy: 'oauth2', grant: 'refresh_token', tokenUrl: 'https://a.example.com:8443/t' }, ['clientId', 'refreshToken'], /port/],
  ['oauth2 unknown grant', { strategy: 'oauth2', grant: 'password', tokenUrl: 'https://a.example.com/t' }, ['clientId'], /grant/],
  ['oauth2 refresh without refresh token', { strategy: 'oauth2', grant: 'refresh_token', tokenUrl: 'https://a.example.com/t' }, ['clientId'], /refreshToken/],
];
for (const [name, spec, fields, re] of bad)
  test(`invalid: ${name}`, () => assert.throws(() => validateAuthSpec(spec, 'x', fields), (e: Error) => re.test(e.message) && !e.message.includes('\n')));

test('shipped: aws (sigv4, bedrock + s3) and coinbase-exchange (hmac)', () => {
  const reg = loadRegistry();
  const aws = reg.provider('aws')!;
  assert.equal(aws.auth.strategy, 'aws-sigv4');
  assert.ok(reg.capability('aws/bedrock-invoke') && reg.capability('aws/s3-read') && reg.capability('aws/s3-write'));
  assert.equal(reg.claimantOf('AWS_SECRET_ACCESS_KEY')?.provider, 'aws');
  const cb = reg.provider('coinbase-exchange')!;
  assert.equal(cb.auth.strategy, 'hmac');
});

test('shipped: google (gmail + calendar) and spotify use oauth2 with the token host among their hosts', () => {
  const reg = loadRegistry();
  for (const id of ['google', 'spotify']) {
    const p = reg.provider(id)!;
    assert.equal(p.auth.strategy, 'oauth2');
    if (p.auth.strategy === 'oauth2') assert.ok(p.hosts.includes(new URL(p.auth.tokenUrl).hostname));
  }
  assert.ok(reg.capability('google/gmail-read') && reg.capability('google/calendar-read') && reg.capability('spotify/player'));
});
