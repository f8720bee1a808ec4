/**
 * High-Throughput JPEG 2000 (ISO/IEC 15444-15, ITU-T T.814) code-block decoding, for the Part 1 decoder in
 * jpeg2000.ts: the FBCOT block coder that replaces EBCOT/MQ in HTJ2K code-blocks (code-block style bit 0x40).
 *
 * A code-block's first codeword segment is its HT cleanup pass: a MagSgn bit-stream read forward from the start,
 * and a MEL and a VLC bit-stream sharing the end (MEL forward, VLC backward), their joint length Scup in the
 * last 12 bits. The cleanup pass is decoded quad by quad (2×2 samples), two quads at a time along each row pair:
 * the VLC codeword (chosen by the significance of neighbouring quads, Annex C tables) gives the quad's
 * significance pattern ρ, whether it carries an exponent offset (u_off) and which samples' magnitude exponents
 * reach the bound exactly (the EMB patterns e_k, e_1); a MEL (adaptive run-length) event says whether a quad with
 * an all-insignificant neighbourhood has any significant sample; the U-VLC codes the exponent bound's offset u,
 * predicted from the quads above (κ); MagSgn then gives each significant sample's magnitude bits and sign. The
 * optional second segment holds the HT SigProp pass (forward) and the HT MagRef pass (backward), which refine one
 * bit-plane below the cleanup pass.
 *
 * One HT set per code-block (a cleanup pass, optionally SigProp and MagRef), as every current encoder writes;
 * placeholder passes and further HT sets are refused by jpeg2000.ts.
 */

/** A malformed HT code-block; jpeg2000.ts turns it into a DaftInputError. */
export class HtProblem extends Error {}

function corrupt(problem: string): never {
  throw new HtProblem(`corrupt HT code-block: ${problem}`);
}

/*
 * The VLC codes of Annex C (Tables C.1 and C.2 of ITU-T T.814), one string per context c_q (0–7) for the first
 * row pair of a code-block and one for the others. Each entry is `ρ/bits` for a quad without an exponent offset,
 * or `ρ e_k e_1/bits` (three hex digits) for one with u_off = 1; `bits` is the codeword in the order it is read
 * from the VLC bit-stream. Every context's codewords form a complete prefix code of at most 7 bits.
 * The values are the standard's; they were read out of the tables of OpenJPH (BSD-2-Clause, © Aous Naman,
 * Kakadu Software and UNSW Sydney) as Debian's libopenjph ships them, checked to be complete prefix codes, and
 * rewritten in this compact form.
 */
const VLC_FIRST_ROW = [
  // c = 0
  "1/0110 111/1111110 2/000 222/1111111 3/10001 322/1111101 331/1111100 4/010 444/110010 5/01110 " +
    "544/110001 551/1111000 6/110000 600/1111011 7/1111010 722/1111001 720/101100 8/001 888/101111 " +
    "9/101110 900/101101 a/10000 a88/101011 aa2/1110111 b/1110110 b11/1110101 b10/100100 c/01111 " +
    "ccc/1110100 cc4/101010 cc8/101001 d/1110011 d11/1110010 d54/1110001 dd8/1110000 e/1101111 " +
    "e22/1101001 ea8/101000 ee4/1101110 f/1101101 f99/1101100 fba/1101011 ffc/1101010 ff8/100111 " +
    "fe6/1100111 fe2/100110 ff5/1101000 ff4/100101 ff1/1100110",
  // c = 1
  "0/00 1/0111 111/1111100 2/0110 222/110111 3/110110 300/101111 4/0101 444/110101 5/110100 544/110011 " +
    "551/1111111 6/110010 600/110001 7/1111110 722/1111101 720/110000 8/0100 888/101110 9/101101 " +
    "900/101100 a/101011 a88/101010 aa2/1111011 b/1111010 b11/1111001 b10/100010 c/10000 c88/101001 " +
    "cc4/101000 d/1111000 d11/1110100 d54/100111 dd8/1110111 e/1110110 e22/1110101 ea8/100110 ee4/1110011 " +
    "f/1110000 fb8/100101 f88/1110010 fa2/100100 fe4/100011 ff1/1110001",
  // c = 2
  "0/00 1/0111 111/110110 2/0110 222/1111110 3/110101 311/110011 332/1111111 4/0101 444/110100 5/10000 " +
    "555/1111010 551/110010 554/110001 6/110000 600/1111101 7/1111100 722/1111011 731/100010 774/1110110 " +
    "8/0100 888/1111001 9/101111 900/101110 a/101101 a00/101100 b/1111000 b22/1110111 b20/101011 c/101010 " +
    "c44/101001 cc8/1110101 d/1110100 d88/101000 dc4/100111 dd1/1110011 e/1110010 e22/1101111 e20/100110 " +
    "f/1110001 ff1/100101 f11/100100 f32/1110000 f74/100011 ff8/1101110",
  // c = 3
  "0/000 1/0010 111/101111 2/00110 222/1111001 3/101110 311/101000 332/1111111 4/01101 444/101101 " +
    "5/01100 555/01011 551/101100 554/101011 6/1111110 644/1111101 662/1111100 7/1111011 766/1111010 " +
    "764/101010 773/1110111 771/101001 772/1111000 8/01010 888/1110000 9/100111 911/1110110 998/1110101 " +
    "a/100110 a88/100101 aa2/1110100 b/1110011 bb1/1110010 b11/1110001 b32/100100 bb8/1101111 c/100011 " +
    "c44/100010 cc8/1101110 d/1101101 d99/1101100 dd5/1101010 dd1/100001 ddc/1101011 dd4/100000 " +
    "dd8/1101001 e/1101000 ee4/1100111 e44/1100100 ec8/011111 ee2/1100110 f/1100101 faa/011100 " +
    "fb9/1100011 ffc/1100000 ff8/01001 fe6/1100010 ff5/011110 ff4/01000 ff3/1100001 ff1/00111 ff2/011101",
  // c = 4
  "0/00 1/0111 111/1111110 2/0110 222/110110 3/110101 322/101111 331/1111111 4/0101 444/1111101 " +
    "5/110100 500/110011 6/110010 600/110001 7/1111100 744/1111011 740/110000 8/0100 888/101110 9/100010 " +
    "900/1110111 a/10000 aaa/1111010 aa2/101101 aa8/101100 b/1111001 bb2/1111000 b00/101011 c/101010 " +
    "c88/101001 cc4/1110110 d/1110101 d11/1110000 d10/101000 e/1110100 e44/100111 ec8/100110 ee2/1110011 " +
    "f/1110010 f99/1110001 f91/100101 f76/1101111 f72/100100 fb8/100011 ff4/1101110",
  // c = 5
  "0/000 1/01011 111/1111111 2/01010 222/101110 3/101101 333/1111101 332/100111 331/1111110 4/01001 " +
    "444/1111100 5/101100 544/101011 551/1111011 6/101010 622/101001 664/1111010 7/1111001 766/1110101 " +
    "764/101000 773/1111000 772/1110111 771/1110110 8/01000 888/100110 9/011001 988/1110100 991/1110011 " +
    "a/00111 aaa/100101 aa2/100100 aa8/100011 b/1110010 b99/1110000 b98/100010 bb3/1110001 bb2/100001 " +
    "bb1/1101111 c/100000 c88/011111 cc4/1101110 d/1101101 d99/1101011 d98/011110 dd5/1101100 dd4/011101 " +
    "dd1/1101010 e/1101001 e66/1101000 eea/1100110 ee2/011100 eec/1100111 ee8/011011 ee4/1100101 " +
    "f/1100100 f77/1100001 f76/011010 f75/1100011 ffc/1100010 ff4/00110 fd9/1100000 ffa/1011110 ff8/00101 " +
    "ff3/1011111 ff2/00100 ff1/011000",
  // c = 6
  "0/000 1/0010 111/110000 2/00110 222/101100 3/01011 333/101111 331/101110 332/101101 4/01010 " +
    "444/1111110 5/101011 511/101010 554/1111111 6/101001 622/1111101 664/1111100 7/1111011 766/1111001 " +
    "764/101000 773/1111010 771/011011 772/1110111 8/01001 888/1111000 9/100111 911/1110110 998/1110101 " +
    "a/100110 a22/100101 aa8/1110100 b/1110011 b99/1110001 b91/100100 bba/1110010 bb2/100011 bb8/1101111 " +
    "c/100010 ccc/1110000 cc8/100001 cc4/1101110 d/1101101 d55/1100110 d54/100000 dc8/1101100 dd1/1101011 " +
    "e/1101010 ee2/1101001 e22/1101000 eec/1100111 ee8/011111 ee4/1100101 f/1100100 f66/011110 fea/011101 " +
    "ff3/011100 ff2/01000 fb9/1100011 ffc/011010 ff8/011000 ff5/1100010 ff1/00111 ff4/011001",
  // c = 7
  "0/01001 1/101000 111/1111111 2/100111 222/1111110 3/1111101 333/1111100 332/1111011 331/1111010 " +
    "4/1111001 444/1111000 5/1110101 511/100110 554/1110111 6/1110110 600/100101 7/1110100 766/1110011 " +
    "773/1110010 772/1110001 775/1101100 771/100100 774/1110000 8/1101111 888/1101110 9/1101101 " +
    "900/100011 a/1100101 a22/100010 aa8/1101011 b/1101010 b99/1101001 bb3/1101000 bb1/1100111 " +
    "bba/1100110 bb2/100001 bb8/1100100 c/1100011 c88/1100010 cc4/1100001 d/1100000 d99/1011111 " +
    "dd5/1011101 dd1/100000 ddc/1011110 dd4/011111 dd8/1011100 e/1011011 e66/1011010 eea/1011000 " +
    "ee2/011110 eec/1011001 ee8/011100 ee4/1010111 f/1010100 fff/01100 ffd/1010110 ff7/1010101 ff5/01011 " +
    "ffb/1010010 ff3/01010 ff9/011101 ff1/0000 ffe/1010011 ff6/011011 ffa/01000 ff2/0011 ffc/011010 " +
    "ff8/0010 ff4/0001",
];

const VLC_OTHER_ROWS = [
  // c = 0
  "1/000 111/111001 2/011 222/111010 3/10110 300/110111 4/010 444/111000 5/10101 500/110101 6/10000 " +
    "600/1111111 7/1111100 700/110110 8/001 888/10100 9/10011 900/110010 a/10010 a88/110100 aa2/1111110 " +
    "b/1111101 b00/110011 c/10001 c88/110001 cc4/1111011 d/1111000 d00/110000 e/1111010 e44/1111001 " +
    "e40/101111 f/1110111 f11/1110110 f10/101110",
  // c = 1
  "0/0 1/1010 111/1111111 2/1001 222/1111100 3/10111 311/1111110 332/1111101 4/10110 444/1110110 " +
    "5/110000 500/1111011 6/1111010 600/1111001 7/1111000 700/1110111 8/1000 888/1110100 9/110100 " +
    "900/1110101 a/110011 a00/1110011 b/1110010 b00/1101010 c/110010 c00/1110001 d/1110000 d00/1101111 " +
    "e/1101110 e00/1101101 f/1101100 f44/1101011 f40/110001",
  // c = 2
  "0/0 1/1001 111/1111111 2/1000 222/110001 3/101111 322/1111110 331/1111100 4/10101 444/1111101 " +
    "5/110000 500/1111011 6/1111010 600/1111001 7/1111000 700/1110100 8/10100 888/1110111 9/1110110 " +
    "900/1110101 a/101110 aaa/1101111 aa2/101101 aa8/1110011 b/1110010 bb2/1110001 b00/1110000 c/101100 " +
    "c00/1101110 d/1101101 d00/1101100 e/1101011 e44/1101010 e40/1101001 f/1101000 f44/1100111 " +
    "f51/1100110 f72/1100101 ff8/1100100",
  // c = 3
  "0/00 1/0101 111/110100 2/0100 222/110001 3/01110 333/1111111 332/110011 331/110010 4/01101 " +
    "444/1111110 5/110000 511/101111 554/1111100 6/101110 600/1111101 7/101101 744/1111010 751/011110 " +
    "772/1111011 8/01100 888/1111001 9/101100 900/101011 a/101010 a22/101001 aa8/1111000 b/101000 " +
    "b88/100111 bb3/1110100 bb2/100110 bb1/1110111 c/100101 c00/100100 d/1110110 d44/1110101 d40/100011 " +
    "e/1110011 e44/1110010 ec8/1110001 ee2/1101011 f/100010 f66/1110000 f73/1101111 ffa/1101110 " +
    "ff2/100001 ff8/100000 fa8/1101101 ff5/1101100 ff1/011111 ff4/1101010",
  // c = 4
  "0/0 1/10110 111/1111111 2/10101 222/1111110 3/1111101 300/1111011 4/1001 444/110001 5/110011 " +
    "500/1111100 6/110010 600/1111010 7/1111001 700/1110101 8/1000 888/1111000 9/1110111 900/1110110 " +
    "a/101110 a00/1110100 b/1110011 b00/1101011 c/10100 ccc/1110010 cc8/1110001 cc4/1110000 d/1101111 " +
    "d00/1101110 e/1101101 e22/1101100 e20/110000 f/1101010 f11/1101001 f32/1101000 f30/101111",
  // c = 5
  "0/00 1/01111 111/110111 2/01010 222/1111110 3/110110 300/110100 4/0100 444/110101 5/01110 544/110011 " +
    "551/1111111 6/110010 600/1111011 7/110001 722/1111101 720/101010 8/01101 888/110000 9/101111 " +
    "900/1111100 a/101110 a00/101101 b/101100 b11/1111001 b10/101011 c/01100 c44/101001 cc8/1111010 " +
    "d/101000 d11/1110111 d54/100111 dd8/1111000 e/100110 e22/1110101 ea8/100000 ee4/1110110 f/01011 " +
    "f99/1110100 fd5/1110011 ff3/1110000 ff1/100101 f76/1110010 ffc/100100 ff4/100011 ffa/1110001 " +
    "ff8/100010 ff2/100001",
  // c = 6
  "0/000 1/0100 111/110000 2/0011 222/101111 3/101110 322/101100 331/1111111 4/0010 444/101101 5/01010 " +
    "544/101011 551/1111010 6/101010 622/1111110 664/1111101 7/101001 722/100101 731/1111100 774/1111011 " +
    "8/01101 888/101000 9/100111 900/100110 a/01100 aaa/1111000 aa2/100100 aa8/1111001 b/011100 " +
    "bb2/1110111 b22/1110110 ba8/1110101 bb1/1110001 c/01011 ccc/1110100 cc8/1110011 cc4/1110010 d/100011 " +
    "dd4/1110000 d44/1101111 dc8/1101110 dd1/1101010 e/100010 ee4/1101101 e44/1101100 eea/1101011 " +
    "ee8/100001 ee2/1100110 f/100000 f33/1101001 f76/1101000 ffa/1100111 ff2/011111 fb9/1100101 " +
    "ffc/1100011 ff8/011110 ff5/1100100 ff4/011101 ff1/1100010",
  // c = 7
  "0/0010 1/110011 111/110010 2/110001 222/1111111 3/110000 311/1111110 332/1111011 4/101101 " +
    "444/1111101 5/01101 511/101111 554/1111100 6/101110 600/1110111 7/01100 774/1111010 744/1111001 " +
    "773/1111000 771/101100 772/1110101 8/101011 888/1110110 9/101010 900/1110010 a/101001 a00/100101 " +
    "b/01011 bb1/1110100 b11/1110011 b32/101000 bb8/1101111 c/100111 c00/100110 d/00110 dd1/1110001 " +
    "d11/1110000 d54/100100 dd8/1101100 e/100011 ee2/1101110 e22/1101101 ea8/011111 ee4/1101000 f/000 " +
    "fff/1101011 ff7/1101010 ffb/1101001 ff3/100010 f76/100001 ffa/100000 ff2/01010 fb9/011110 ffc/011100 " +
    "ff8/01001 ff5/011101 ff1/01000 ff4/00111",
];

/**
 * Lookup tables, 128 entries per context, indexed by the next 7 bits of the VLC stream (first-read bit lowest):
 * ρ in bits 0–3, u_off in bit 4, the codeword length in bits 5–7, e_k in bits 8–11, e_1 in bits 12–15.
 */
function vlcTable(contexts: readonly string[]): Uint16Array {
  const table = new Uint16Array(8 * 128);
  contexts.forEach((codes, c) => {
    for (const entry of codes.split(" ")) {
      const [key, bits] = entry.split("/") as [string, string];
      const rho = parseInt(key[0]!, 16);
      const uOff = key.length === 3 ? 1 : 0;
      const ek = uOff ? parseInt(key[1]!, 16) : 0;
      const e1 = uOff ? parseInt(key[2]!, 16) : 0;
      let code = 0;
      for (let i = 0; i < bits.length; i++) code |= (bits.charCodeAt(i) - 48) << i;
      const value = rho | (uOff << 4) | (bits.length << 5) | (ek << 8) | (e1 << 12);
      for (let rest = 0; rest < 128 >> bits.length; rest++) {
        table[c * 128 + (code | (rest << bits.length))] = value;
      }
    }
  });
  return table;
}

const FIRST_ROW_TABLE = vlcTable(VLC_FIRST_ROW);
const OTHER_ROWS_TABLE = vlcTable(VLC_OTHER_ROWS);

/** The MEL coder's run-length exponent for each of its 13 states. */
const MEL_EXPONENT = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5];

/**
 * A bit-stream read forward, least significant bit of each byte first, with a 0 bit stuffed as the top bit of
 * every byte that follows an FF (MagSgn and SigProp). Past its end it reads `fill` bytes.
 */
class ForwardBits {
  private data: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private end = 0;
  private fill = 0;
  private acc = 0;
  private count = 0;
  private afterFF = false;

  init(data: Uint8Array, start: number, end: number, fill: number): void {
    this.data = data;
    this.pos = start;
    this.end = end;
    this.fill = fill;
    this.acc = 0;
    this.count = 0;
    this.afterFF = false;
  }

  private refill(): void {
    while (this.count <= 24) {
      const b = this.pos < this.end ? this.data[this.pos]! : this.fill;
      this.pos++;
      if (this.afterFF) {
        this.acc |= (b & 0x7f) << this.count;
        this.count += 7;
      } else {
        this.acc |= b << this.count;
        this.count += 8;
      }
      this.afterFF = b === 0xff;
    }
  }

  /** The next n bits (1 ≤ n ≤ 30), the first-read bit lowest. */
  read(n: number): number {
    if (n > 24) {
      const low = this.read(16);
      return low + this.read(n - 16) * 65536;
    }
    if (this.count < n) this.refill();
    const v = this.acc & ((1 << n) - 1);
    this.acc >>>= n;
    this.count -= n;
    return v;
  }
}

/**
 * A bit-stream read backward from its last byte, least significant bit first (VLC and MagRef): a byte whose low
 * 7 bits are all 1 and that follows (in reading order) a byte above 8F has a stuffed top bit. Past its first byte
 * it reads zeros.
 */
class BackwardBits {
  private data: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private first = 0;
  private acc = 0;
  private count = 0;
  private afterHigh = false;

  /** The VLC stream: it ends with the top half of the cleanup segment's second-to-last byte. */
  initVlc(data: Uint8Array, lcup: number, scup: number): void {
    this.data = data;
    const b = data[lcup - 2]!;
    const nibble = b >> 4;
    // That half byte follows a virtual byte above 8F: when its low 3 bits are all 1 its top bit is stuffed.
    if ((nibble & 7) === 7) {
      this.acc = 7;
      this.count = 3;
    } else {
      this.acc = nibble;
      this.count = 4;
    }
    this.afterHigh = (b | 0x0f) > 0x8f;
    this.pos = lcup - 3;
    this.first = lcup - scup;
  }

  /** The MagRef stream: backward from the last byte of the refinement segment [start, end). */
  initMagRef(data: Uint8Array, start: number, end: number): void {
    this.data = data;
    this.acc = 0;
    this.count = 0;
    this.afterHigh = true;
    this.pos = end - 1;
    this.first = start;
  }

  private refill(): void {
    while (this.count <= 24) {
      const b = this.pos >= this.first ? this.data[this.pos]! : 0;
      this.pos--;
      if (this.afterHigh && (b & 0x7f) === 0x7f) {
        this.acc |= (b & 0x7f) << this.count;
        this.count += 7;
      } else {
        this.acc |= b << this.count;
        this.count += 8;
      }
      this.afterHigh = b > 0x8f;
    }
  }

  /** The next n bits (n ≤ 24) without consuming them. */
  peek(n: number): number {
    if (this.count < n) this.refill();
    return this.acc & ((1 << n) - 1);
  }

  skip(n: number): void {
    this.acc >>>= n;
    this.count -= n;
  }

  bit(): number {
    if (this.count === 0) this.refill();
    const v = this.acc & 1;
    this.acc >>>= 1;
    this.count--;
    return v;
  }
}

/** The MEL stream: forward, most significant bit first, a stuffed 0 at the top of each byte after an FF. */
class MelDecoder {
  private data: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private end = 0;
  private byte = 0;
  private bits = 0;
  private afterFF = false;
  private state = 0;
  /** Zero events left in the current run, and whether a one event ends it. */
  private run = 0;
  private one = false;

  init(data: Uint8Array, lcup: number, scup: number): void {
    this.data = data;
    this.pos = lcup - scup;
    // The MEL stream may use the byte holding the low half of Scup, reading those 4 bits as ones.
    this.end = lcup - 1;
    this.bits = 0;
    this.afterFF = false;
    this.state = 0;
    this.run = 0;
    this.one = false;
  }

  private bit(): number {
    if (this.bits === 0) {
      let b = this.pos < this.end ? this.data[this.pos]! : 0xff;
      if (this.pos === this.end - 1) b |= 0x0f;
      this.pos++;
      this.bits = this.afterFF ? 7 : 8;
      this.afterFF = b === 0xff;
      this.byte = b;
    }
    return (this.byte >> --this.bits) & 1;
  }

  /** The next event: 1 when the quad (or quad pair) it stands for is significant. */
  event(): number {
    for (;;) {
      if (this.run > 0) {
        this.run--;
        return 0;
      }
      if (this.one) {
        this.one = false;
        return 1;
      }
      const e = MEL_EXPONENT[this.state]!;
      if (this.bit()) {
        this.run = 1 << e;
        if (this.state < 12) this.state++;
      } else {
        let r = 0;
        for (let i = 0; i < e; i++) r = (r << 1) | this.bit();
        this.run = r;
        this.one = true;
        if (this.state > 0) this.state--;
      }
    }
  }
}

/** U-VLC prefixes by their first 3 bits (first-read bit lowest): prefix length | suffix length << 2 | u_pfx << 5. */
const UVLC_PREFIX = new Uint8Array([
  3 | (5 << 2) | (5 << 5), // 000
  1 | (1 << 5), // xx1
  2 | (2 << 5), // x10
  1 | (1 << 5),
  3 | (1 << 2) | (3 << 5), // 100
  1 | (1 << 5),
  2 | (2 << 5),
  1 | (1 << 5),
]);

/**
 * Decodes HT code-blocks. The result stays in `coefficients` (signed; magnitudes are 2μ + 1 in units of
 * 2^shift — μ the decoded magnitude at bit-plane `shift`, plus half a step) until write() puts it in a
 * tile-component.
 */
export class HtBlockDecoder {
  private coefficients = new Int32Array(0);
  /** Significance with a one-sample border: 1 after the cleanup pass, 2 after SigProp (refinement only). */
  private sig = new Uint8Array(0);
  /** Magnitude exponents of the previous and current row pair's lower row, at column + 1. */
  private above = new Uint8Array(0);
  private below = new Uint8Array(0);
  private readonly magSgn = new ForwardBits();
  private readonly sigProp = new ForwardBits();
  private readonly vlc = new BackwardBits();
  private readonly magRef = new BackwardBits();
  private readonly mel = new MelDecoder();
  private w = 0;
  private h = 0;
  private shift = 0;

  /**
   * Decodes one code-block of w × h samples from `data`: its cleanup segment (`cleanupLength` bytes) then its
   * refinement segment (`refinementLength` bytes, used when `passes` is 2 or 3). `planes` is the sub-band's
   * magnitude bit-planes less the code-block's missing ones (Mb − Z): the cleanup pass codes bit-plane
   * planes − 1 and everything above it.
   */
  decode(
    data: Uint8Array,
    cleanupLength: number,
    refinementLength: number,
    passes: number,
    w: number,
    h: number,
    planes: number,
    bitPlanes: number,
    causal: boolean,
  ): void {
    this.w = w;
    this.h = h;
    const n = w * h;
    if (this.coefficients.length < n) this.coefficients = new Int32Array(n);
    else this.coefficients.fill(0, 0, n);
    if (this.above.length < w + 4) {
      this.above = new Uint8Array(w + 4);
      this.below = new Uint8Array(w + 4);
    }
    const p = planes - 1;
    this.shift = p;
    // The magnitude at bit-plane p has at most Mb − p bits, and so has its exponent bound U_q.
    this.cleanup(data, cleanupLength, bitPlanes - p);
    if (passes > 1 && refinementLength > 0 && p > 0) {
      this.refine(data, cleanupLength, cleanupLength + refinementLength, passes, causal);
    }
  }

  private cleanup(data: Uint8Array, lcup: number, maxU: number): void {
    if (lcup < 2) corrupt(`a cleanup segment of ${lcup} bytes`);
    const scup = (data[lcup - 1]! << 4) | (data[lcup - 2]! & 0x0f);
    if (scup < 2 || scup > lcup || scup > 4079) corrupt(`MEL and VLC lengths of ${scup} bytes in ${lcup}`);
    const { w, h, coefficients: out, magSgn, vlc, mel } = this;
    magSgn.init(data, 0, lcup - scup, 0xff);
    vlc.initVlc(data, lcup, scup);
    mel.init(data, lcup, scup);
    const quads = (w + 1) >> 1;
    let above = this.above;
    let below = this.below;
    above.fill(0);
    const quad = [0, 0];
    const uq = [0, 0];
    for (let y = 0; y < h; y += 2) {
      const first = y === 0;
      const table = first ? FIRST_ROW_TABLE : OTHER_ROWS_TABLE;
      const tall = y + 1 < h;
      below.fill(0);
      // Context bits from the quad to the left.
      let left = 0;
      for (let q = 0; q < quads; q += 2) {
        const pair = q + 1 < quads ? 2 : 1;
        for (let k = 0; k < pair; k++) {
          const x = 2 * (q + k);
          let c = left;
          if (!first) {
            // σ^nw | σ^n, σ^ne | σ^nf: the lower row of the row pair above, columns x − 1 … x + 2.
            if (above[x]! | above[x + 1]!) c |= 1;
            if (above[x + 2]! | above[x + 3]!) c |= 4;
          }
          let info = 0;
          if (c !== 0 || mel.event()) {
            info = table[c * 128 + vlc.peek(7)]!;
            vlc.skip((info >> 5) & 7);
          }
          quad[k] = info;
          const rho = info & 15;
          left = first ? (rho & 3 ? 1 : 0) | ((rho >> 1) & 6) : rho & 12 ? 2 : 0;
        }
        if (pair === 1) quad[1] = 0;
        // The exponent offsets u of the quad pair.
        const q0 = quad[0]!;
        const q1 = quad[1]!;
        let mode = ((q0 >> 4) & 1) | ((q1 >> 3) & 2);
        if (first && mode === 3 && mel.event()) mode = 4;
        this.offsets(mode, first, uq);
        for (let k = 0; k < pair; k++) {
          const info = quad[k]!;
          const rho = info & 15;
          if (rho === 0) continue;
          const x = 2 * (q + k);
          if ((rho & 10 && !tall) || (rho & 12 && x + 1 >= w))
            corrupt("a significant sample outside the block");
          let u = uq[k]!;
          if (first) {
            u += 1;
          } else if (rho & (rho - 1)) {
            // κ: with two or more significant samples, the largest exponent among the four above, less one.
            let e = above[x]!;
            if (above[x + 1]! > e) e = above[x + 1]!;
            if (above[x + 2]! > e) e = above[x + 2]!;
            if (above[x + 3]! > e) e = above[x + 3]!;
            u += e > 2 ? e - 1 : 1;
          } else {
            u += 1;
          }
          if (u > maxU) corrupt(`an exponent bound of ${u} bits, beyond ${maxU}`);
          const ek = (info >> 8) & 15;
          const e1 = (info >> 12) & 15;
          for (let s = 0; s < 4; s++) {
            if (!(rho & (1 << s))) continue;
            const m = u - ((ek >> s) & 1);
            const raw = magSgn.read(m);
            // v = 2(μ − 1) + sign, its top bit (at m ≤ 30) implied by e_1.
            const v = raw | (((e1 >> s) & 1) << m);
            const mu = (v >>> 1) + 1;
            const col = x + (s >> 1);
            const row = y + (s & 1);
            out[row * w + col] = raw & 1 ? -(2 * mu + 1) : 2 * mu + 1;
            if (s & 1) below[col + 1] = 32 - Math.clz32(2 * mu - 1);
          }
        }
      }
      const swap = above;
      above = below;
      below = swap;
    }
    this.above = above;
    this.below = below;
  }

  /** Reads the U-VLC codes of a quad pair into u (without κ). */
  private offsets(mode: number, first: boolean, u: number[]): void {
    const vlc = this.vlc;
    u[0] = 0;
    u[1] = 0;
    if (mode === 0) return;
    if (mode === 1 || mode === 2) {
      const d = UVLC_PREFIX[vlc.peek(3)]!;
      vlc.skip(d & 3);
      const suffix = (d >> 2) & 7;
      u[mode - 1] = (d >> 5) + vlc.peek(suffix);
      vlc.skip(suffix);
      return;
    }
    const d0 = UVLC_PREFIX[vlc.peek(3)]!;
    vlc.skip(d0 & 3);
    if (mode === 3 && first && (d0 & 3) === 3) {
      // First row pair, both offsets, the first above 2: the second is 1 or 2, one bit.
      u[1] = 1 + vlc.peek(1);
      vlc.skip(1);
      const s0 = (d0 >> 2) & 7;
      u[0] = (d0 >> 5) + vlc.peek(s0);
      vlc.skip(s0);
      return;
    }
    const d1 = UVLC_PREFIX[vlc.peek(3)]!;
    vlc.skip(d1 & 3);
    const s0 = (d0 >> 2) & 7;
    u[0] = (d0 >> 5) + vlc.peek(s0);
    vlc.skip(s0);
    const s1 = (d1 >> 2) & 7;
    u[1] = (d1 >> 5) + vlc.peek(s1);
    vlc.skip(s1);
    if (mode === 4) {
      // First row pair, both offsets, and a MEL one event: both are at least 3.
      u[0] += 2;
      u[1] += 2;
    }
  }

  /** The HT SigProp and (with 3 passes) MagRef passes over the refinement segment [start, end): bit-plane p − 1. */
  private refine(data: Uint8Array, start: number, end: number, passes: number, causal: boolean): void {
    const { w, h, coefficients: out } = this;
    const stride = w + 2;
    const size = stride * (h + 2);
    if (this.sig.length < size) this.sig = new Uint8Array(size);
    else this.sig.fill(0, 0, size);
    const sig = this.sig;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) if (out[y * w + x] !== 0) sig[(y + 1) * stride + x + 1] = 1;
    }
    // Everything moves one bit-plane down: a magnitude 2μ + 1 at p is 4μ + 2 at p − 1.
    for (let i = 0; i < w * h; i++) out[i] = out[i]! * 2;
    this.shift--;
    const sp = this.sigProp;
    sp.init(data, start, end, 0);
    const fresh: number[] = [];
    for (let y0 = 0; y0 < h; y0 += 4) {
      const rows = Math.min(4, h - y0);
      for (let x0 = 0; x0 < w; x0 += 4) {
        const x1 = Math.min(x0 + 4, w);
        fresh.length = 0;
        for (let x = x0; x < x1; x++) {
          for (let r = 0; r < rows; r++) {
            const i = (y0 + r + 1) * stride + x + 1;
            if (sig[i]) continue;
            let near =
              sig[i - stride - 1]! | sig[i - stride]! | sig[i - stride + 1]! | sig[i - 1]! | sig[i + 1]!;
            // Vertically causal: nothing below the stripe counts.
            if (!(causal && r === 3)) near |= sig[i + stride - 1]! | sig[i + stride]! | sig[i + stride + 1]!;
            if (near && sp.read(1)) {
              sig[i] = 2;
              fresh.push(i);
            }
          }
        }
        for (const i of fresh) {
          const y = ((i / stride) | 0) - 1;
          const x = (i % stride) - 1;
          out[y * w + x] = sp.read(1) ? -3 : 3;
        }
      }
    }
    if (passes < 3) return;
    const mr = this.magRef;
    mr.initMagRef(data, start, end);
    for (let y0 = 0; y0 < h; y0 += 4) {
      const rows = Math.min(4, h - y0);
      for (let x = 0; x < w; x++) {
        for (let r = 0; r < rows; r++) {
          const y = y0 + r;
          if (sig[(y + 1) * stride + x + 1] !== 1) continue;
          const o = y * w + x;
          const v = out[o]!;
          // The refinement bit picks the upper or lower half of the interval.
          const delta = mr.bit() ? 1 : -1;
          out[o] = v < 0 ? v - delta : v + delta;
        }
      }
    }
  }

  /**
   * The decoded code-block into a tile-component at (ox, oy): integers for the reversible path, × step for the
   * irreversible one.
   */
  write(out: Int32Array | Float32Array, outWidth: number, ox: number, oy: number, step: number): void {
    const { w, h, shift, coefficients } = this;
    if (out instanceof Int32Array) {
      for (let y = 0; y < h; y++) {
        let o = (oy + y) * outWidth + ox;
        for (let x = 0, i = y * w; x < w; x++, i++, o++) {
          const t = coefficients[i]!;
          if (t === 0) continue;
          const m = t < 0 ? -t : t;
          const v = shift === 0 ? m >> 1 : m * 2 ** (shift - 1);
          out[o] = t < 0 ? -v : v;
        }
      }
    } else {
      const scale = 2 ** shift * 0.5 * step;
      for (let y = 0; y < h; y++) {
        let o = (oy + y) * outWidth + ox;
        for (let x = 0, i = y * w; x < w; x++, i++, o++) {
          const t = coefficients[i]!;
          if (t !== 0) out[o] = t * scale;
        }
      }
    }
  }
}
