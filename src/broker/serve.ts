/**
 * What the broker's other doors (the intercepting proxy, WebSocket upgrades) get from the server:
 * the pipeline context and the server's own request path — approve (the policy pipeline) →
 * forward → exactly one audit `request` line — so every door runs the same code.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { BrokerErrorCode } from '../errors/codes.js';
import type { Approved, PipelineContext, RequestRecord } from './pipeline.js';

export interface BrokerCore {
  ctx: PipelineContext;
  idleMs: number;
  /** Tokens and secrets out of a text (error messages, audit paths). */
  scrub(text: string): string;
  /** A loopback TCP peer, or the broker's own unix-socket door (the sandbox relay). */
  localPeer(socket: Socket): boolean;
  /** The audit log cannot be written: refuse (audit_unavailable) rather than serve unaudited. */
  auditFailed(): boolean;
  /** Write the one audit line of a request that did not go through serve (CONNECT, upgrades). */
  audit(rec: RequestRecord, status: number, code: BrokerErrorCode | undefined, started: number, bytes: number): void;
  /** Approve with `approve`, forward, audit (exactly one line). Never throws. */
  serve(req: IncomingMessage, res: ServerResponse, rec: RequestRecord, started: number, approve: () => Promise<Approved>): Promise<void>;
}
