// One usage-log row per /v1 request, written when its response has closed (so the status, timing and
// the settled cost are final). Nothing here runs before the response is sent.
import { randomUUID } from 'node:crypto';
import type { NextFunction, Response } from 'express';
import type { UsageWriter } from '@switchyard/usage';
import { clientLabel, GatewayRequest } from './gateway-call';

/** A settlement that never comes (a bug elsewhere) must not lose the row: it is written uncharged. */
const SETTLEMENT_WAIT_MS = 60_000;

function bounded(settlement: Promise<bigint>): Promise<bigint> {
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<bigint>((resolve) => {
    timer = setTimeout(() => resolve(0n), SETTLEMENT_WAIT_MS);
    timer.unref();
  });
  return Promise.race([settlement, giveUp]).finally(() => clearTimeout(timer));
}

export function usageRecorder(writer: UsageWriter) {
  return (req: GatewayRequest, res: Response, next: NextFunction): void => {
    res.once('close', () => {
      const call = req.call;
      const status = res.writableFinished ? res.statusCode : 499;
      const latencyMs = Math.round(Number(process.hrtime.bigint() - req.startedAt) / 1e6);
      const write = (charged: bigint) =>
        writer.record({
          id: randomUUID(),
          request_id: req.id,
          created_at: new Date(),
          agent_id: call?.key?.agentId ?? null,
          workspace_id: call?.key?.workspaceId ?? null,
          api_key_id: call?.key?.keyId ?? null,
          endpoint: call?.endpoint ?? 'other',
          model_requested: call?.modelRequested ?? null,
          model_used: call?.modelUsed ?? null,
          provider_id: call?.providerId ?? null,
          status,
          error_code: (res.locals.errorCode as string | undefined) ?? null,
          input_tokens: call?.usage?.inputTokens ?? 0,
          cached_input_tokens: call?.usage?.cachedInputTokens ?? 0,
          output_tokens: call?.usage?.outputTokens ?? 0,
          cost: charged,
          latency_ms: latencyMs,
          ttft_ms: call?.ttftMs ?? null,
          stream: call?.stream ?? false,
          client_label: clientLabel(req),
          fallback_depth: call?.fallbackDepth ?? 0,
          client_ip: req.ip ?? null,
        });
      // a client that left mid-stream: the row waits for the charge of what it received
      const charged = call?.charged ?? (status === 499 && call?.settlement ? bounded(call.settlement) : undefined);
      if (charged) void charged.then(write, () => write(0n));
      else write(0n);
    });
    next();
  };
}
