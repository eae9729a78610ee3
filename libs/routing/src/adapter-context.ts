import { randomBase62 } from '@switchyard/core';
import type { AdapterContext } from '@switchyard/providers';

/** The real clock and ids for adapters (tests pass fixed ones). Ids look like OpenAI's: chatcmpl-…, msg_…. */
export const liveContext: AdapterContext = {
  now: () => Date.now(),
  newId: (prefix) => `${prefix}${prefix === 'msg' || prefix === 'toolu' ? '_' : '-'}${randomBase62(24)}`,
};
