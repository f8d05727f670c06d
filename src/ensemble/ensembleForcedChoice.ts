import type { ForcedChoiceRecord } from '../model/bundleMetadata.js';
import type { ModelBundle } from '../model/modelBundle.js';

/**
 * What an ensemble records of its members' forced choice (see train's tuneForcedChoice): their pair
 * when every member records the same one, at the mean of their thresholds, a stopgap until tuned on
 * data none of them trained on (ensembleBundles' `tune`). Otherwise none.
 */
export function membersForcedChoice(members: readonly Pick<ModelBundle, 'metadata'>[]): ForcedChoiceRecord | undefined {
  const records = members.map((b) => b.metadata.forcedChoice);
  const first = records[0];
  if (!first || !records.every((r) => r && r.between[0] === first.between[0] && r.between[1] === first.between[1])) return undefined;
  return { between: [...first.between], threshold: records.reduce((s, r) => s + r!.threshold, 0) / records.length };
}
