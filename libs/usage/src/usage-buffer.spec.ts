import { UsageBuffer } from './usage-buffer';

describe('UsageBuffer', () => {
  it('hands out rows in order, in chunks of at most chunkSize', () => {
    const b = new UsageBuffer<number>(3);
    for (let i = 0; i < 7; i++) b.push(i);
    expect(b.size).toBe(7);
    expect(b.take()).toEqual([0, 1, 2]);
    expect(b.take()).toEqual([3, 4, 5]);
    b.push(7); // joins the partial chunk
    expect(b.take()).toEqual([6, 7]);
    expect(b.take()).toBeUndefined();
    expect(b.size).toBe(0);
  });

  it('starts a new chunk after a partial one was taken, and puts a failed batch back in front', () => {
    const b = new UsageBuffer<number>(10);
    b.push(1);
    const batch = b.take()!;
    b.push(2);
    b.putBack(batch);
    expect(b.size).toBe(2);
    expect(b.take()).toEqual([1]);
    expect(b.take()).toEqual([2]);
  });

  it('drops whole oldest chunks until the bound holds, and says how many rows went', () => {
    const b = new UsageBuffer<number>(2);
    for (let i = 0; i < 9; i++) b.push(i);
    expect(b.dropOldest(5)).toBe(4);
    expect(b.size).toBe(5);
    expect(b.take()).toEqual([4, 5]);
    expect(b.dropOldest(100)).toBe(0);
  });
});
