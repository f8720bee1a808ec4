/**
 * The MONAI Label conventions 3D Slicer and OHIF already speak:
 *   GET  /info/             the app: every expert of the manifest is a model, plus "daft" (routed automatically)
 *   POST /infer/{model}     see monaiInfer.ts
 *   /datastore/...          see monaiDatastore.ts
 *   /session/...            see monaiSession.ts (how MONAI Label's client sends an image the datastore lacks)
 */
import type { ExpertSpec } from "@daft/core";
import type { ServerContext } from "./context.js";
import { datastoreRoutes } from "./monaiDatastore.js";
import { sessionRoutes } from "./monaiSession.js";
import { AUTO_MODEL, inferRoute } from "./monaiInfer.js";
import { jsonContent } from "./openapi.js";
import { jsonResponse } from "./responses.js";
import type { Route } from "./router.js";
import type { Info, ModelInfo } from "./schemas.js";

export { AUTO_MODEL };

/** Modalities whose images are volumes: an expert serving one (or every modality, "*") takes 3D input. */
const VOLUME_MODALITIES = new Set(["ct", "mr", "mri", "pet", "*"]);

const LABELS = { object: 1 };
const LABEL_NOTE = "each box becomes its own label (box index + 1), named in the result's label_names";

export function modelDimension(spec: Pick<ExpertSpec, "modalities">): 2 | 3 {
  return spec.modalities.some((m) => VOLUME_MODALITIES.has(m.toLowerCase())) ? 3 : 2;
}

export function monaiRoutes(context: ServerContext): Route[] {
  const { engine, datastore } = context;

  const info = (): Info => {
    const models: Record<string, ModelInfo> = {
      [AUTO_MODEL]: {
        type: "segmentation",
        labels: LABELS,
        dimension: 3,
        description:
          "DAFT: routes each image to its expert (DICOM modality, file name, learned selector), as daft segment " +
          `does; box prompts; ${LABEL_NOTE}`,
        config: {},
      },
    };
    for (const spec of engine.models.manifest.experts) {
      models[spec.name] = {
        type: "segmentation",
        labels: LABELS,
        dimension: modelDimension(spec),
        description:
          `DAFT expert "${spec.name}" for ${spec.modalities.join(", ")}` +
          `${spec.stage ? ` (${spec.stage}${spec.subset ? ` ${spec.subset}` : ""})` : ""}, version ${spec.version}; ` +
          `box prompts; ${LABEL_NOTE}`,
        config: {},
      };
    }
    return {
      name: "DAFT",
      description:
        "DAFT: data-aware fine-tuned promptable segmentation experts, on this machine (daft serve)",
      version: context.version,
      labels: Object.keys(LABELS),
      models,
      trainers: {},
      strategies: {},
      scoring: {},
      train_stats: {},
      datastore: datastore.status(),
    };
  };

  return [
    {
      method: "GET",
      path: "/info/",
      operation: {
        operationId: "info",
        summary: "MONAI Label app info: the experts as models, with labels and dimension",
        tags: ["monai-label"],
        responses: { "200": { description: "OK", content: jsonContent("Info") } },
      },
      async handle() {
        return jsonResponse(info());
      },
    },
    inferRoute(context),
    ...datastoreRoutes(context),
    ...sessionRoutes(context),
  ];
}
