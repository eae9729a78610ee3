// The writer's in-memory queue: rows kept in chunks of at most one INSERT's worth, so push, taking a
// batch, putting a failed batch back and dropping the oldest rows are all O(1) per row (no Array.shift
// over 200,000 rows).

export class UsageBuffer<T> {
  private chunks: T[][] = [];
  private total = 0;

  constructor(private readonly chunkSize: number) {}

  get size(): number {
    return this.total;
  }

  push(item: T): void {
    let last = this.chunks[this.chunks.length - 1];
    if (!last || last.length >= this.chunkSize) {
      last = [];
      this.chunks.push(last);
    }
    last.push(item);
    this.total++;
  }

  /** The oldest chunk (at most chunkSize rows), removed from the queue; later pushes start a new chunk. */
  take(): T[] | undefined {
    const chunk = this.chunks.shift();
    if (chunk) this.total -= chunk.length;
    return chunk;
  }

  /** A batch that failed to write goes back to the front, so order is kept and nothing is lost. */
  putBack(chunk: T[]): void {
    if (chunk.length === 0) return;
    this.chunks.unshift(chunk);
    this.total += chunk.length;
  }

  /** Drops whole oldest chunks until at most `max` rows remain; returns how many rows were dropped. */
  dropOldest(max: number): number {
    let dropped = 0;
    while (this.total > max && this.chunks.length > 0) {
      const chunk = this.chunks.shift()!;
      this.total -= chunk.length;
      dropped += chunk.length;
    }
    return dropped;
  }
}
