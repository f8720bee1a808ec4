/**
 * New DICOM UIDs without a registered root (PS3.5 B.2): "2.25." followed by a UUID read as one unsigned 128-bit
 * integer in decimal. The UUID is a random (version 4) one from the Web Crypto API's getRandomValues, which Node 20
 * and browsers provide as globalThis.crypto.
 */

interface RandomSource {
  getRandomValues<T extends Uint8Array>(array: T): T;
}

/** Fills `bytes` with cryptographically strong random values. */
export type FillRandom = (bytes: Uint8Array) => void;

const webCryptoRandom: FillRandom = (bytes) => {
  const crypto = (globalThis as { crypto?: RandomSource }).crypto;
  if (!crypto) throw new Error("newDicomUid: no globalThis.crypto.getRandomValues in this runtime");
  crypto.getRandomValues(bytes);
};

/** "2.25.<decimal 128-bit UUID>": at most 44 characters, unique without coordination. */
export function newDicomUid(fillRandom: FillRandom = webCryptoRandom): string {
  const bytes = new Uint8Array(16);
  fillRandom(bytes);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40; // UUID version 4 (random)
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return `2.25.${value.toString(10)}`;
}
