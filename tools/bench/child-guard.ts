// Preloaded into the processes the benchmark starts (`node -r .../child-guard.js ...`): when the bench
// process dies without cleaning up (SIGKILL, crash), the IPC pipe closes and the child stops itself
// gracefully instead of living on as an orphan holding a port and a database.
// Active only when SY_BENCH_GUARD=1; the variable is removed at once so that processes the child forks
// itself (node:cluster workers) do not act on their own IPC channel.
if (process.env.SY_BENCH_GUARD === '1') {
  delete process.env.SY_BENCH_GUARD;
  const channel = (process as NodeJS.Process & { channel?: { unref(): void } }).channel;
  if (channel && process.send) {
    channel.unref(); // the pipe must not keep the process alive
    process.once('disconnect', () => {
      process.kill(process.pid, 'SIGTERM');
      setTimeout(() => process.exit(1), 10_000).unref();
    });
  }
}
