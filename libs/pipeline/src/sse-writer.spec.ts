import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import { ClientGone, clientSignal } from './sse-writer';

describe('ClientGone', () => {
  it('runs each listener once, on abort, with an AbortError reason', () => {
    const gone = new ClientGone();
    const calls: string[] = [];
    gone.addEventListener('abort', () => calls.push('a'));
    gone.addEventListener('abort', () => calls.push('b'));
    expect(gone.aborted).toBe(false);
    gone.abort();
    gone.abort();
    expect(calls).toEqual(['a', 'b']);
    expect(gone.aborted).toBe(true);
    expect((gone.reason as Error).name).toBe('AbortError');
  });

  it('does not run a removed listener', () => {
    const gone = new ClientGone();
    const calls: string[] = [];
    const a = () => calls.push('a');
    gone.addEventListener('abort', a);
    gone.addEventListener('abort', () => calls.push('b'));
    gone.removeEventListener('abort', a);
    gone.abort();
    expect(calls).toEqual(['b']);
  });

  it('gives a real AbortSignal that follows it, already aborted or later', () => {
    const before = new ClientGone();
    before.abort();
    expect(before.toAbortSignal().aborted).toBe(true);
    const later = new ClientGone();
    const signal = later.toAbortSignal();
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal.aborted).toBe(false);
    later.abort();
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).name).toBe('AbortError');
  });
});

describe('clientSignal', () => {
  const fakeRes = (over: Partial<Record<'writableFinished' | 'destroyed', boolean>> = {}) =>
    Object.assign(new EventEmitter(), { writableFinished: false, destroyed: false, socket: null, ...over });

  it('aborts when the response closes before it finished, not after a finished one', () => {
    const cut = fakeRes();
    const a = clientSignal(cut as unknown as Response);
    cut.emit('close');
    expect(a.aborted).toBe(true);

    const done = fakeRes();
    const b = clientSignal(done as unknown as Response);
    done.writableFinished = true;
    done.emit('close');
    expect(b.aborted).toBe(false);
  });

  it('is aborted at once when the client already left', () => {
    expect(clientSignal(fakeRes({ destroyed: true }) as unknown as Response).aborted).toBe(true);
  });
});
