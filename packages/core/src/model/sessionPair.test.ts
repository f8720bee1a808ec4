import { describe, expect, it } from "vitest";
import { openSessionPair } from "./sessionPair.js";

const later = <T>(value: T, ms: number) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));
const failLater = (message: string, ms: number) =>
  new Promise<never>((_, reject) => setTimeout(() => reject(new Error(message)), ms));

describe("openSessionPair", () => {
  it("gives both sessions when both open", async () => {
    const released: string[] = [];
    const pair = await openSessionPair(later("enc", 2), later("dec", 1), async (s) => void released.push(s));
    expect(pair).toEqual(["enc", "dec"]);
    expect(released).toEqual([]);
  });

  it("waits for the other session and releases it before passing the failure on", async () => {
    const released: string[] = [];
    // the encoder fails at once; the decoder is still opening then
    await expect(
      openSessionPair(failLater("bad encoder", 0), later("dec", 20), async (s) => void released.push(s)),
    ).rejects.toThrow("bad encoder");
    expect(released).toEqual(["dec"]);
  });

  it("passes the encoder's failure on when both fail", async () => {
    await expect(
      openSessionPair(failLater("enc", 5), failLater("dec", 0), async () => undefined),
    ).rejects.toThrow("enc");
  });
});
