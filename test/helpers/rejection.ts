/**
 * The error a promise rejects with; fails the test when it resolves instead.
 * @example expect(await rejection(client.submit(request))).toBeInstanceOf(DetectorHttpError)
 */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
