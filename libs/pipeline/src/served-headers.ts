import type { Response } from 'express';
import type { Attempt } from '@switchyard/routing';
import type { Admission } from './pipeline.service';

/** Rate-limit headers, and which model served the request (x-model-used, x-fallback-from/-depth). */
export function servedHeaders(
  adm: Admission,
  attempt: Attempt | undefined,
  requestedName: string,
): Record<string, string> {
  const h: Record<string, string> = { ...adm.rateHeaders };
  if (attempt) {
    h['x-model-used'] = attempt.model.id;
    if (attempt.depth > 0) {
      h['x-fallback-from'] = requestedName;
      h['x-fallback-depth'] = String(attempt.depth);
    }
  }
  return h;
}

export function setHeaders(res: Response, headers: Record<string, string>): void {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
}
