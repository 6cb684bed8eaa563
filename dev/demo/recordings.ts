/**
 * The demo's recordings, modelled on the vendor's example: three speakers, each with a reference,
 * a second genuine take (same voice, other sentences) and a "clone" (the reference's text in a
 * different voice, as MP3). Made with espeak-ng, sox and lame.
 *
 * The recordings are byte-for-byte reproducible (sox runs with a fixed dither seed). With the
 * emulator's stand-in scorer (espeak-ng 1.51, lame 3.100) the six pairs score:
 *   Harry vs Harry2 -1.493, Harry vs Harry_clone +1.970, Juan vs Juan2 -1.455,
 *   Juan vs Juan_clone +1.939, Veronika vs Veronika2 -1.083, Veronika vs Veronika_clone +2.545
 * `test/unit/emulator-demo.test.ts` keeps each on its expected side of 0.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';

import { encodeMp3, fileExists, synthesizeWav } from './speech-synthesis.ts';

/** One demo comparison. */
export interface DemoPair {
  /** e.g. `Harry vs Harry2`. */
  name: string;
  /** Path of the reference recording. */
  reference: string;
  /** Path of the questioned recording. */
  questioned: string;
  /** What a working detector should say. */
  expect: 'genuine' | 'deepfake';
}

interface Speaker {
  name: string;
  /** espeak-ng voice of the genuine speaker. */
  voice: string;
  /** Voice of the impostor that "clones" the reference. */
  cloneVoice: string;
  reference: string;
  secondTake: string;
}

/** The speakers: distinct espeak-ng voices; the clone voices are the same gender, as a clone would be. */
export const DEMO_SPEAKERS: readonly Speaker[] = [
  {
    name: 'Harry',
    voice: 'en+m3',
    cloneVoice: 'en+m1',
    reference:
      'Hello, my name is Harry. I am calling about the payment on my account. Could you please confirm that it went through?',
    secondTake:
      'I usually walk to work when the weather is nice. Tomorrow I will take the train instead. The meeting starts at nine.',
  },
  {
    name: 'Juan',
    voice: 'es+m1',
    cloneVoice: 'es+m3',
    reference:
      'Hola, me llamo Juan y trabajo en el centro. Quiero comprobar el estado de mi cuenta. ¿Me puede ayudar, por favor?',
    secondTake:
      'Los fines de semana me gusta pasear por el parque. Mañana voy a visitar a mi familia. El tren sale a las ocho.',
  },
  {
    name: 'Veronika',
    voice: 'en+f3',
    cloneVoice: 'en+f4',
    reference:
      'Good morning, this is Veronika speaking. I would like to change the address on my contract. Please call me back this afternoon.',
    secondTake:
      'My sister lives near the river with two small dogs. We often cook dinner together on Sundays. The garden is full of flowers.',
  },
];

/**
 * Writes `<Name>.wav`, `<Name>2.wav` and `<Name>_clone.mp3` for each speaker into `dir` (mono
 * 16 kHz 16-bit WAV; MP3 from lame) and returns the six pairs, genuine then deepfake per speaker.
 * Idempotent: files already present are kept as they are.
 * @throws MissingToolError naming the Debian package when espeak-ng, sox or lame is missing.
 * @example const pairs = await generateDemoRecordings('.demo/recordings');
 */
export async function generateDemoRecordings(dir: string): Promise<DemoPair[]> {
  const pairs: DemoPair[] = [];
  for (const speaker of DEMO_SPEAKERS) {
    const reference = path.join(dir, `${speaker.name}.wav`);
    const secondTake = path.join(dir, `${speaker.name}2.wav`);
    const clone = path.join(dir, `${speaker.name}_clone.mp3`);
    if (!(await fileExists(reference)))
      await synthesizeWav({ text: speaker.reference, voice: speaker.voice, out: reference });
    if (!(await fileExists(secondTake)))
      await synthesizeWav({ text: speaker.secondTake, voice: speaker.voice, out: secondTake });
    if (!(await fileExists(clone))) {
      const cloneWav = path.join(dir, `.${speaker.name}_clone.wav`);
      await synthesizeWav({ text: speaker.reference, voice: speaker.cloneVoice, out: cloneWav });
      try {
        await encodeMp3(cloneWav, clone);
      } finally {
        await rm(cloneWav, { force: true });
      }
    }
    pairs.push(
      { name: `${speaker.name} vs ${speaker.name}2`, reference, questioned: secondTake, expect: 'genuine' },
      { name: `${speaker.name} vs ${speaker.name}_clone`, reference, questioned: clone, expect: 'deepfake' },
    );
  }
  return pairs;
}
