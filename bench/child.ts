/**
 * Entry point of one benchmark section's child process (see section.ts): `node --expose-gc
 * bench/child.ts <section>`, input over IPC, result back over IPC, then exit.
 */
import type { SectionName, SectionReply } from './section.ts';

const measures: Record<SectionName, () => Promise<(input: never) => Promise<unknown>>> = {
  upload: async () => (await import('./upload.ts')).measureUpload,
  submit: async () => (await import('./submit.ts')).measureSubmit,
  probe: async () => (await import('./probe.ts')).measureProbe,
  workflow: async () => (await import('./workflow.ts')).measureWorkflow,
};

const name = process.argv[2] as SectionName;
if (!process.send || !(name in measures)) {
  console.error(`usage: forked by bench/run.ts with one of ${Object.keys(measures).join(', ')}`);
  process.exit(2);
}

process.once('message', (input: unknown) => {
  void (async () => {
    let reply: SectionReply<unknown>;
    try {
      const measure = await measures[name]();
      reply = { ok: true, result: await measure(input as never) };
    } catch (err) {
      reply = { ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
    }
    // Exit once the reply is out: a lingering keep-alive socket must not hold the child open.
    process.send!(reply, undefined, {}, () => process.exit(reply.ok ? 0 : 1));
  })();
});
