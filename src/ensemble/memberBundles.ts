import { tf } from '../engine/engine.js';
import { BundleError } from '../base/errors.js';
import type { BundleMetadata } from '../model/bundleMetadata.js';
import type { ModelBundle } from '../model/modelBundle.js';
import type { LayersModel } from '@tensorflow/tfjs';

/**
 * The models an ensemble bundle (happysad ensemble) averages, each as a bundle of its own: its
 * network with its trained weights, the ensemble's classes and preprocessing, and the member's own
 * record (seed, training, metrics). What fine-tuning an ensemble member by member starts from.
 * The copies own their weights; dispose them when done.
 */
export async function memberBundles(ensemble: ModelBundle): Promise<ModelBundle[]> {
  const members = ensemble.metadata.members;
  if (!members?.length) throw new BundleError(`${ensemble.dir || ensemble.metadata.name} is not an ensemble: it holds one model`);
  // ensembleBundles names member k's sub-model `m<k>_<its name>` and wires them in that order.
  const nested = ensemble.model.layers.filter((l): l is LayersModel => /^m\d+_/.test(l.name) && 'getWeights' in l && 'layers' in l);
  if (nested.length !== members.length) throw new BundleError(`${ensemble.dir || ensemble.metadata.name}: its metadata lists ${members.length} members but the model holds ${nested.length}`);
  const out: ModelBundle[] = [];
  for (const [k, sub] of nested.entries()) {
    const copy = await tf.models.modelFromJSON({ modelTopology: sub.toJSON(null, false) as never });
    copy.setWeights(sub.getWeights());
    const r = members[k]!;
    const metadata: BundleMetadata = {
      ...ensemble.metadata,
      name: r.name, arch: r.arch, seed: r.seed, threshold: r.threshold, createdAt: r.createdAt,
      training: r.training, dataset: r.dataset, metrics: r.metrics,
      source: `member ${k + 1} of ensemble ${ensemble.metadata.name}${r.source ? `; ${r.source}` : ''}`,
    };
    delete metadata.members;
    // The ensemble's temperature was fitted to the average, not to any one member's output.
    delete metadata.calibration;
    if (r.members) metadata.members = r.members;
    out.push({ dir: '', model: copy, metadata });
  }
  return out;
}
