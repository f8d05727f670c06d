import type * as TF from '@tensorflow/tfjs';
import type { LayersModel, io } from '@tensorflow/tfjs';

/** The TensorFlow.js instance to build with: Node's engine, or the page's (the browser build). */
type Tf = typeof TF;

type FromConfig = (cls: unknown, config: unknown, customObjects: unknown, fastWeightInit: boolean) => unknown;

/** The container classes a layers-model topology can name, at its top or nested as a layer. */
const CONTAINERS = ['Model', 'Functional', 'Sequential'];

/**
 * The same classes, built with tfjs-layers' "fast weight init" (every weight starts at zero). tfjs
 * turns it on only for the top level of a model whose weights come with it, not for the layers
 * of a nested Sequential (an ensemble's members), which drew ~0.9 M truncated-normal values for
 * weights then overwritten: ~90 ms of every bundle load, in every thread (and every backend a page
 * tries) that loads one. Passed as customObjects, which tfjs looks up before its own registry and
 * hands down to nested layers, so nothing global changes.
 */
function zeroInitContainers(tf: Tf): Record<string, [unknown, FromConfig]> {
  const registered = tf.serialization.SerializationMap.getMap().classNameMap as unknown as Record<string, [unknown, FromConfig] | undefined>;
  const out: Record<string, [unknown, FromConfig]> = {};
  for (const name of CONTAINERS) {
    const entry = registered[name];
    if (!entry) continue;
    const [cls, fromConfig] = entry;
    out[name] = [cls, (c, config, customObjects) => fromConfig(c, config, customObjects, true)];
  }
  return out;
}

/**
 * A layers model built from its topology (model.json's modelTopology, or model.toJSON()) with
 * every weight zero: for a caller that sets all of them next (loadWeights with strict, or
 * readWeightsInto), so the random draws of its initialisers would be thrown away. The model's
 * configuration, initialisers included, is the topology's: saving it writes the same model.json.
 */
export function modelFromTopology(tf: Tf, topology: object): Promise<LayersModel> {
  return tf.models.modelFromJSON({ modelTopology: topology } as never, zeroInitContainers(tf) as never);
}

/**
 * What tf.loadLayersModel does with a model.json and its weights, minus the initialisers' random
 * draws: the same model, every weight set from the data, strictly (a weight missing from the data
 * or of the wrong shape is an error). Node's readBundle and the browser build both load this way.
 */
export async function modelFromArtifacts(tf: Tf, topology: object, specs: io.WeightsManifestEntry[], data: io.WeightData): Promise<LayersModel> {
  const model = await modelFromTopology(tf, topology);
  const named = tf.io.decodeWeights(data, specs);
  // As tfjs does: an optimiser's state, if a file carries one, is not the model's.
  const modelWeights = Object.fromEntries(specs.filter((s) => s.group !== 'optimizer').map((s) => [s.name, named[s.name]!]));
  try {
    model.loadWeights(modelWeights, true);
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    tf.dispose(Object.values(named));
  }
  return model;
}
