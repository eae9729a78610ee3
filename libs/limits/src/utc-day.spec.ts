import { dayOf, nextUtcMidnightUs } from './utc-day';

const us = (iso: string) => Date.parse(iso) * 1000;

describe('UTC days', () => {
  it('a day runs from UTC midnight to the next, whatever the local time zone', () => {
    expect(dayOf(us('2025-03-01T00:00:00Z'))).toBe(dayOf(us('2025-03-01T23:59:59.999Z')));
    expect(dayOf(us('2025-03-02T00:00:00Z'))).toBe(dayOf(us('2025-03-01T23:59:59.999Z')) + 1);
  });

  it('resets at the next UTC midnight', () => {
    expect(nextUtcMidnightUs(us('2025-03-01T17:30:00Z'))).toBe(us('2025-03-02T00:00:00Z'));
    expect(nextUtcMidnightUs(us('2025-03-01T00:00:00Z'))).toBe(us('2025-03-02T00:00:00Z'));
    expect(nextUtcMidnightUs(us('2024-12-31T23:59:59Z'))).toBe(us('2025-01-01T00:00:00Z'));
  });
});
