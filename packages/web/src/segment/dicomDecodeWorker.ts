/**
 * Module worker of the series decoding pool (dicomDecodePool.ts), started by the segmentation worker: decodes the
 * pixel data of one DICOM file per message with the core's decodeDicomPixels and sends back its rescaled values
 * (transferred, not copied). A file it cannot decode answers with no values: the segmentation worker leaves that
 * one to the core, so its error is reported as always.
 */
import { answerDecodeRequest, type DecodeRequest } from "@daft/core";

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = (event: MessageEvent<DecodeRequest>) => {
  const reply = answerDecodeRequest(event.data);
  scope.postMessage(reply, reply.values ? [reply.values.buffer] : []);
};
