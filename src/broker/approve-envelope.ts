/** The envelope door (POST /aivault/proxy): capability, credential, method and path named in a JSON envelope. */
import type { IncomingMessage } from 'node:http';
import { normalizePath } from '../policy/path.js';
import { checkCapability, methodAllowed } from '../policy/capability.js';
import { checkCallerHeaders } from '../policy/headers.js';
import { dropParamsCarrying } from '../policy/query.js';
import { deny } from './errors.js';
import { consumeTokenHeaders } from './token-extract.js';
import { parseEnvelope } from './envelope.js';
import { isGranted } from './grants.js';
import { resolveCredential, slotsOf } from './credential-resolve.js';
import { auditPath, BASE_TOKEN_HEADERS, findTokenFor, KNOWN_METHODS, refuseMethodOverride } from './request-checks.js';
import { finish } from './finish-approval.js';
import type { Approved, PipelineContext, RequestRecord } from './pipeline-types.js';

export async function approveEnvelope(
  ctx: PipelineContext,
  req: IncomingMessage,
  rec: RequestRecord,
  readBody: (limit: number) => Promise<Buffer>,
): Promise<Approved> {
  rec.path = '/aivault/proxy';
  // 1. token
  const found = findTokenFor(ctx, req.headers, BASE_TOKEN_HEADERS, '', [], rec);
  const outer = consumeTokenHeaders(req.headers, BASE_TOKEN_HEADERS, found.token);
  const envLimit = Math.ceil((ctx.maxRequestBytes * 4) / 3) + 1024 * 1024;
  const env = parseEnvelope(await readBody(envLimit), ctx.maxRequestBytes);
  // the envelope method is caller text: only a well-known method is recorded or echoed as is
  const shownMethod = KNOWN_METHODS.has(env.method) ? env.method : '(unlisted method)';
  rec.method = shownMethod;
  rec.path = auditPath(env.path);

  // 2. capability
  const cap = ctx.catalog.getCapability(env.capability);
  if (!cap) throw deny('capability_not_found', `unknown capability '${env.capability.slice(0, 80)}'`);
  rec.capability = cap.id;
  if (!isGranted(found.entry.grant.capabilities, cap)) throw deny('capability_not_granted', `capability '${cap.id}' is not granted to this run; add --allow ${cap.id}`);

  // 3. credential
  const cred = resolveCredential(ctx.catalog, cap, env.credential, found.entry.grant.credential);
  rec.credential = cred.id;

  // 4. method, 5. path
  if (!methodAllowed(env.method, cap)) throw deny('method_not_allowed', `method ${shownMethod} is not allowed by ${cap.id}`);
  const n = normalizePath(env.path);
  if (!n.ok) throw deny(n.code, n.reason);
  rec.path = n.path;
  const cc = checkCapability(env.method, n.path, cap);
  if (!cc.ok) throw deny(cc.code, cc.code === 'path_not_allowed' ? `path ${n.path} is outside ${cap.id}` : `method ${shownMethod} is not allowed by ${cap.id}`);
  refuseMethodOverride(env.headers, n.query, cap);

  // outer auth-class headers must be the token or absent
  const outerCheck = checkCallerHeaders(outer, { headers: [] });
  if (!outerCheck.ok) throw deny('auth_header_rejected', `header '${outerCheck.header}' may not be set by the caller`);

  const credSlots = slotsOf(cred, ctx.catalog.getProvider(cred.provider));
  const maxBody = cap.limits?.maxRequestBytes ?? ctx.maxRequestBytes;
  if (env.body && env.body.length > maxBody) throw deny('body_too_large', 'request body exceeds the limit');
  return finish(ctx, rec, {
    cap,
    cred,
    method: env.method,
    path: n.path,
    query: dropParamsCarrying(n.query, found.token),
    headers: consumeTokenHeaders(env.headers, [], found.token),
    body: env.body ?? null,
    bodyState: { tooLarge: false },
    credSlots,
  });
}
