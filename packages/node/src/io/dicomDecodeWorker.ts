/**
 * Worker thread of DicomDecodePool: decodes the pixel data of one DICOM file per message with the core's
 * decodeDicomPixels and sends back its rescaled values (transferred, not copied). A file it cannot decode answers
 * with no values: the main thread decodes that one itself, so its error is reported as always.
 */
import { parentPort } from "node:worker_threads";
import { decodeDicomPixels, readDicom } from "@daft/core";

export interface DecodeRequest {
  id: number;
  name: string;
  bytes: Uint8Array;
}

export interface DecodeReply {
  id: number;
  values?: Float32Array;
}

const port = parentPort;
if (port) {
  port.on("message", ({ id, name, bytes }: DecodeRequest) => {
    let reply: DecodeReply = { id };
    try {
      reply = { id, values: decodeDicomPixels(readDicom(bytes, name), name).values };
    } catch {
      // Left to the main thread, whose decodeDicomStudy names the problem.
    }
    port.postMessage(reply, reply.values ? [reply.values.buffer as ArrayBuffer] : []);
  });
}
