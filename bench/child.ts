/**
 * Entry point of one benchmark section's child process (see section.ts): `node --expose-gc
 * bench/child.ts <section> <input JSON>`, result back over IPC, then exit. The input comes in argv
 * rather than as a message, so it cannot arrive before this module listens.
 */
import type { SectionName, SectionReply } from './section.ts';

const measures: Record<SectionName, () => Promise<(input: never) => Promise<unknown>>> = {
  upload: async () => (await import('./upload.ts')).measureUpload,
  submit: async () => (await import('./submit.ts')).measureSubmit,
  probe: async () => (await import('./probe.ts')).measureProbe,
  workflow: async () => (await import('./workflow.ts')).measureWorkflow,
  batch: async () => (await import('./batch.ts')).measureBatch,
  throughput: async () => (await import('./cases.ts')).measureThroughput,
  latency: async () => (await import('./cases.ts')).measureLatency,
  overhead: async () => (await import('./cases.ts')).measureOverhead,
  cost: async () => (await import('./cases.ts')).measureCost,
  streaming: async () => (await import('./submit.ts')).measureSubmit,
  polling: async () => (await import('./polling.ts')).measurePolling,
};

const [name, inputJson] = process.argv.slice(2) as [SectionName, string | undefined];
if (!process.send || !(name in measures) || inputJson === undefined) {
  console.error(
    `usage: forked by bench/run.ts with one of ${Object.keys(measures).join(', ')} and its input`,
  );
  process.exit(2);
}

// The parent died: nobody will read a result.
process.once('disconnect', () => process.exit(1));

let reply: SectionReply<unknown>;
try {
  const measure = await measures[name]();
  reply = { ok: true, result: await measure(JSON.parse(inputJson) as never) };
} catch (err) {
  reply = { ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
}
// Exit once the reply is out: a lingering keep-alive socket must not hold the child open.
process.send(reply, undefined, {}, () => process.exit(reply.ok ? 0 : 1));
