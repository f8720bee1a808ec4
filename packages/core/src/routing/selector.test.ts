import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseManifest } from "../manifest/schema.js";
import { inputErrorLine } from "../testing/inputErrors.js";
import { META_FEATURE_NAMES, type MetaFeatures } from "./metaFeatures.js";
import { SeededRandom } from "./random.js";
import { parseSelector, predictWithSelector, selectModality, type Selector } from "./selector.js";
import { evaluateSelector, selectorEvaluationMarkdown } from "./selectorEvaluation.js";
import { routeCaseWithSelector } from "./selectorRoute.js";
import { chooseThreshold, trainSelector, type SelectorSample } from "./selectorTraining.js";

const WIDTH = META_FEATURE_NAMES.length;
const at = (name: string) => META_FEATURE_NAMES.indexOf(name as (typeof META_FEATURE_NAMES)[number]);

/**
 * Synthetic 2D cases of three modalities that differ in a few meta-features (plus noise everywhere), with
 * unequal class sizes so the majority class is a real baseline.
 */
function synthetic(count: number, seed: number): SelectorSample[] {
  const rng = new SeededRandom(seed);
  const classes = [
    { label: "Endoscopy", shift: { mean_r_minus_b: 3, channels: 3 } },
    { label: "US", shift: { mean: -3, edge_share: 3 } },
    { label: "XRay", shift: { mean: 3, log_height: 3 } },
  ];
  const out: SelectorSample[] = [];
  for (let i = 0; i < count; i++) {
    const u = rng.next();
    const kind = u < 0.5 ? classes[0]! : u < 0.8 ? classes[1]! : classes[2]!;
    const values = Float64Array.from({ length: WIDTH }, () => rng.normal());
    values[at("dimension")] = 2;
    for (const [name, shift] of Object.entries(kind.shift)) values[at(name)]! += shift;
    out.push({ dimension: 2, label: kind.label, values });
  }
  return out;
}

const fast = {
  candidates: [
    { hidden: 0, l2: 1e-3, balanced: false },
    { hidden: 16, l2: 1e-3, balanced: true },
  ],
  epochs: 60,
};

describe("learned selector", () => {
  const train = synthetic(240, 1);
  const val = synthetic(80, 2);
  const test = synthetic(150, 3);

  it("is deterministic for a seed and beats the majority class on held-out data", () => {
    const a = trainSelector(train, val, { ...fast, seed: 0 });
    const b = trainSelector(train, val, { ...fast, seed: 0 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const c = trainSelector(train, val, { ...fast, seed: 1 });
    expect(JSON.stringify(c.models["2d"]!.layers)).not.toBe(JSON.stringify(a.models["2d"]!.layers));

    const report = evaluateSelector(a, test)["2d"]!;
    expect(report.majorityBaseline.modality).toBe("Endoscopy");
    expect(report.accuracy).toBeGreaterThan(report.majorityBaseline.accuracy + 0.3);
    expect(report.accuracy).toBeGreaterThan(0.9);
    expect(report.cases).toBe(150);
    expect(report.confusion.flat().reduce((x, y) => x + y, 0)).toBe(150);
    // The model chose a candidate on val and recorded all of them.
    const info = a.models["2d"]!.training!;
    expect(info.candidates).toHaveLength(2);
    expect(info.valSource).toBe("val");
    expect(a.models["3d"]).toBeNull();
    const md = selectorEvaluationMarkdown({ "2d": report, "3d": null }, "test");
    expect(md).toContain("| true \\ predicted | Endoscopy | US | XRay |");
  });

  it("survives a JSON round trip through the zod schema and predicts the same", () => {
    const selector = trainSelector(train, val, { ...fast, seed: 0 });
    const loaded = parseSelector(JSON.parse(JSON.stringify(selector)), "sel.json");
    const features: MetaFeatures = { dimension: 2, values: Float64Array.from(test[0]!.values) };
    expect(predictWithSelector(loaded, features)).toEqual(predictWithSelector(selector, features));
    expect(predictWithSelector(loaded, { dimension: 3, values: features.values })).toBeNull();
  });

  it("rejects malformed selectors in one line", () => {
    const selector = trainSelector(train, val, { ...fast, seed: 0 });
    const broken = JSON.parse(JSON.stringify(selector)) as Selector;
    broken.models["2d"]!.layers[0]!.weights.pop();
    broken.models["2d"]!.featureNames[0] = "no_such_feature";
    expect(inputErrorLine(() => parseSelector(broken, "sel.json"))).toMatch(
      /^sel\.json: invalid selector: models\.2d: layer 0 needs \d+ weights, has \d+$/,
    );
    const renamed = JSON.parse(JSON.stringify(selector)) as Selector;
    renamed.models["2d"]!.featureNames[0] = "no_such_feature";
    expect(() => parseSelector(renamed, "sel.json")).toThrow(/meta-feature "no_such_feature"/);
    expect(() => parseSelector({ format: "daft-selector", version: 2 }, "v.json")).toThrow(
      /^invalid selector: version/,
    );
  });

  it("falls through below the threshold and for inputs unlike the training data", () => {
    const selector = trainSelector(train, val, { ...fast, seed: 0 });
    const model = selector.models["2d"]!;
    const typical: MetaFeatures = { dimension: 2, values: Float64Array.from(test[0]!.values) };
    const routed = selectModality(selector, typical);
    expect(routed?.modality).toBe(test[0]!.label);
    const strict = { ...selector, models: { ...selector.models, "2d": { ...model, threshold: 1 } } };
    expect(selectModality(strict, typical)).toBeNull();
    const far = Float64Array.from(typical.values, (v, i) => v + 50 * model.standardisation.std[i]!);
    const p = predictWithSelector(selector, { dimension: 2, values: far })!;
    expect(p.routed).toBe(false);
    expect(p.reason).toMatch(/unlike the training data/);
  });

  it("chooses the threshold that maximises correct − cost × wrong on validation", () => {
    const preds = [
      { confidence: 0.99, correct: true },
      { confidence: 0.95, correct: true },
      { confidence: 0.9, correct: false },
      { confidence: 0.8, correct: true },
      { confidence: 0.6, correct: false },
      { confidence: 0.5, correct: false },
    ];
    // Cost 2: routing the top 2 gives 2; adding 0.9 and 0.8 gives 1; so cut between 0.95 and 0.9.
    expect(chooseThreshold(preds, 2, 0.25).threshold).toBeCloseTo(0.925, 12);
    // Cost 0.5: the top 4 give 2.5, more only lose: cut between 0.8 and 0.6.
    expect(chooseThreshold(preds, 0.5, 0.25).threshold).toBeCloseTo(0.7, 12);
    // All right: route everything; the threshold lies halfway between the lowest confidence and chance.
    expect(chooseThreshold([{ confidence: 0.7, correct: true }], 2, 0.3).threshold).toBeCloseTo(0.5, 12);
  });

  it("a single training class routes only inputs that look like it", () => {
    const mr = synthetic(60, 4).map((s) => ({ ...s, dimension: 3 as const, label: "MR" }));
    const selector = trainSelector(mr, [], { seed: 0 });
    const model = selector.models["3d"]!;
    expect(model.classes).toEqual(["MR"]);
    expect(model.layers).toEqual([]);
    expect(model.training!.valSource).toBe("train-holdout");
    expect(selectModality(selector, { dimension: 3, values: Float64Array.from(mr[0]!.values) })).toEqual({
      modality: "MR",
      confidence: 1,
    });
  });

  it("routes by the selector only after every manifest rule missed", () => {
    const manifest = parseManifest(
      JSON.parse(readFileSync(new URL("../../../../fixtures/manifest/valid.json", import.meta.url), "utf8")),
    );
    const selector = trainSelector(train, val, { ...fast, seed: 0 });
    // An X-ray case the selector recognises confidently (a few noisy ones are rightly left to the fallback).
    const asFeatures = (s: SelectorSample): MetaFeatures => ({
      dimension: 2,
      values: Float64Array.from(s.values),
    });
    const xray = test.find(
      (s) => s.label === "XRay" && selectModality(selector, asFeatures(s))?.modality === "XRay",
    )!;
    const features = asFeatures(xray);
    let calls = 0;
    const predict = () => {
      calls++;
      return predictWithSelector(selector, features);
    };
    const byName = routeCaseWithSelector(manifest, { fileName: "2DBox_CT_x.npz" }, predict);
    expect(byName).toMatchObject({ rule: "filename", modality: "CT" });
    expect(calls).toBe(0);
    const bySelector = routeCaseWithSelector(manifest, { fileName: "case_0001.npz" }, predict);
    expect(bySelector).toMatchObject({ rule: "selector", modality: "XRay", expert: "general" });
    expect(bySelector.confidence).toBeGreaterThan(selector.models["2d"]!.threshold);
    const none = routeCaseWithSelector(manifest, { fileName: "case_0001.npz" }, () => null);
    expect(none.rule).toBe("fallback");
  });
});
