/**
 * `--sandbox-net=broker`: the sandbox has its own network namespace with loopback only. The broker
 * also listens on a unix socket (the run's private directory, bound into the sandbox), and a small
 * relay started inside the sandbox listens on 127.0.0.1:<the broker's port> and pipes every
 * connection to that socket, byte for byte. So AIVAULT_BASE_URL is the same URL as without the
 * sandbox, official SDKs work unmodified, and the same port also carries the --intercept proxy.
 * Every other address, DNS included, has nothing to reach.
 *
 * Start order inside: `sh` starts the relay in the background and waits (command substitution)
 * until it has printed `ready` and released its stdout, then execs the command; so the command
 * never starts before the broker is reachable. The relay ignores the forwarded signals (they are
 * for the command) and dies with the sandbox (SIGKILL of the PID namespace when the command ends).
 */

/** The relay program, run as `node -e RELAY_SOURCE PORT SOCKET` (only node:net and node:fs). */
export const RELAY_SOURCE = [
  'const net=require("net"),fs=require("fs");',
  'const[port,sock]=process.argv.slice(1);',
  'for(const s of["SIGINT","SIGTERM","SIGHUP","SIGQUIT","SIGUSR1","SIGUSR2"])process.on(s,()=>{});',
  'const srv=net.createServer({pauseOnConnect:true},c=>{',
  'const u=net.connect(sock,()=>{c.pipe(u);u.pipe(c);c.resume();});',
  'c.on("error",()=>u.destroy());u.on("error",()=>c.destroy());c.on("close",()=>u.destroy());u.on("close",()=>c.destroy());',
  '});',
  'srv.on("error",e=>{process.stderr.write("aivault: sandbox relay: cannot listen on 127.0.0.1:"+port+" ("+e.code+")\\n");process.exit(125)});',
  'srv.listen({host:"127.0.0.1",port:+port},()=>{fs.writeSync(1,"ready");fs.closeSync(1);fs.openSync("/dev/null","w")});',
].join('');

const START = [
  'r=$1 port=$2 sock=$3 node=$4; shift 4',
  'ready=$("$node" -e "$r" "$port" "$sock" &)',
  '[ "$ready" = ready ] || { echo "aivault: the sandbox relay to the broker did not start" >&2; exit 125; }',
  'exec "$@"',
].join('\n');

/** Inner argv for broker mode: start the relay, then `command` (an argv from commandInner). */
export function relayInner(shPath: string, nodePath: string, port: number, socketPath: string, command: readonly string[]): string[] {
  return [shPath, '-c', START, 'aivault-sandbox', RELAY_SOURCE, String(port), socketPath, nodePath, ...command];
}
