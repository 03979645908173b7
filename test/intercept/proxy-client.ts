/** Test clients for the broker's proxy door: undici's ProxyAgent (a real client) and raw CONNECT. */
import net from 'node:net';
import tls from 'node:tls';
import { ProxyAgent } from 'undici';

export interface ProxyResp {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function proxyAgent(port: number, token: string | undefined, caPem: string): ProxyAgent {
  return new ProxyAgent({
    uri: `http://127.0.0.1:${port}`,
    ...(token !== undefined ? { token: `Basic ${Buffer.from(`aivault:${token}`).toString('base64')}` } : {}),
    requestTls: { ca: caPem },
  });
}

/** One request through the proxy to https://HOST/PATH. */
export async function viaProxy(
  agent: ProxyAgent,
  host: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string } = {},
): Promise<ProxyResp> {
  // origin + raw path: a URL string would be normalised by the client (%2e%2e → ..)
  const r = await agent.request({ origin: `https://${host}`, path, method: method as 'GET', headers: opts.headers ?? {}, body: opts.body ?? null });
  return { status: r.statusCode, headers: r.headers as ProxyResp['headers'], body: await r.body.text() };
}

/** A raw CONNECT: the broker's status line and headers, and the socket (open on 200). */
export function rawConnect(port: number, target: string, headers: Record<string, string> = {}): Promise<{ status: number; head: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    s.once('error', reject);
    s.on('connect', () => {
      const extra = Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      s.write(`CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n${extra}\r\n`);
    });
    const onData = (b: Buffer): void => {
      buf += b.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      s.removeListener('data', onData);
      const head = buf.slice(0, end);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, socket: s });
    };
    s.on('data', onData);
  });
}

export const basic = (token: string): string => `Basic ${Buffer.from(`aivault:${token}`).toString('base64')}`;

/** TLS over an established CONNECT tunnel; resolves with the peer certificate (or rejects). */
export function tlsOver(socket: net.Socket, servername: string, ca: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const t = tls.connect({ socket, servername, ca, ALPNProtocols: ['http/1.1'] }, () => resolve(t));
    t.once('error', reject);
  });
}
