import { initEngine } from '../../src/engine/engine.js';
import { getArchitecture, listArchitectures } from '../../src/model/architectures.js';
import { formatModelSummary, summarizeModel } from '../../src/model/summarizeModel.js';
import { parseInputShape } from '../../src/input/preprocessSpec.js';
import { parseCommand } from '../parseCommand.js';

export async function archCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, 'arch');
  if (positionals.length === 0) {
    for (const name of listArchitectures()) {
      const a = getArchitecture(name);
      console.log(`${name.padEnd(10)} ${a.defaultInput.join('x').padEnd(12)} ${a.description}`);
    }
    return 0;
  }
  await initEngine();
  const arch = getArchitecture(positionals[0]);
  const input = values.input ? parseInputShape(values.input) : arch.defaultInput;
  const model = arch.build({ input, numClasses: Number(values.classes), seed: 0 });
  const summary = summarizeModel(model, arch.name);
  model.dispose();
  console.log(values.json ? JSON.stringify(summary) : formatModelSummary(summary));
  return 0;
}
