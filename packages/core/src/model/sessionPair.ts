/**
 * Opens an expert's two sessions together, all or nothing: when one fails, the other is waited for and released
 * before the failure is passed on. With Promise.all the other session would still be opening, or be left open,
 * when the caller gives up — and a worker thread terminated in that state aborts the whole process inside
 * onnxruntime-node ("terminate called after throwing an instance of 'Napi::Error'": every time, in a probe that
 * starts a worker whose encoder bytes are broken).
 */
export async function openSessionPair<T>(
  encoder: Promise<T>,
  decoder: Promise<T>,
  release: (session: T) => Promise<void>,
): Promise<[T, T]> {
  const [e, d] = await Promise.allSettled([encoder, decoder]);
  if (e.status === "fulfilled" && d.status === "fulfilled") return [e.value, d.value];
  await Promise.all(
    [e, d].map((s) => (s.status === "fulfilled" ? release(s.value).catch(() => undefined) : undefined)),
  );
  throw e.status === "rejected" ? e.reason : (d as PromiseRejectedResult).reason;
}
