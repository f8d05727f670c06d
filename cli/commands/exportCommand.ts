import { OptionError } from '../../src/base/errors.js';
import { exportKerasModel } from '../../src/interop/keras/index.js';
import { parseCommand } from '../parseCommand.js';

export async function exportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, 'export');
  if (positionals.length !== 1) throw new OptionError(`export takes one model folder (happysad help export)`);
  if (values.format !== 'keras-h5') throw new OptionError(`--format ${values.format}: the only export format is keras-h5`);
  if (!values.out) throw new OptionError(`export needs --out FILE.h5: where to write the Keras model (happysad help export)`);
  const result = await exportKerasModel(positionals[0], values.out, { overwrite: values.overwrite });
  if (values.json) {
    console.log(JSON.stringify(result));
    return 0;
  }
  console.log(`Wrote ${result.file}: Keras 2 .h5, ${result.layers} layers, ${result.params.toLocaleString('en-US')} parameters${result.trainingConfig ? ', compile settings included' : ''}`);
  if (result.sigmoidMeasures) {
    console.log(`  the sigmoid output is p(${result.sigmoidMeasures})${result.outputNegated ? ' (the last layer was negated from the bundle\'s score so that it follows Keras\' class order)' : ''}`);
  }
  console.log(`\nIn Python: model = keras.models.load_model("${result.file}")`);
  return 0;
}
