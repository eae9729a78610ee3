// Daily caps count per UTC calendar day; day numbers are days since the Unix epoch, which start at UTC midnight.

export const DAY_US = 86_400_000_000;

export function dayOf(nowUs: number): number {
  return Math.floor(nowUs / DAY_US);
}

export function nextUtcMidnightUs(nowUs: number): number {
  return (dayOf(nowUs) + 1) * DAY_US;
}
