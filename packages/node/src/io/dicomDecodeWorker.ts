/**
 * Worker thread of the series decoding pool (dicomDecodePool.ts): decodes the pixel data of one DICOM file per
 * message with the core's decodeDicomPixels and sends back its rescaled values (transferred, not copied). A file it
 * cannot decode answers with no values: the core decodes that one itself, so its error is reported as always.
 */
import { parentPort } from "node:worker_threads";
import { answerDecodeRequest, type DecodeRequest } from "@daft/core";

const port = parentPort;
if (port) {
  port.on("message", (request: DecodeRequest) => {
    const reply = answerDecodeRequest(request);
    port.postMessage(reply, reply.values ? [reply.values.buffer as ArrayBuffer] : []);
  });
}
