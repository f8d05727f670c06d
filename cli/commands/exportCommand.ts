import { OptionError } from '../../src/errors.js';
import { exportKerasModel } from '../../src/interop/keras/index.js';
import { parseCommand } from '../parseCommand.js';

export const exportHelp = `happysad export MODEL_DIR --out FILE.h5 [--format keras-h5] [--json]

Writes a model bundle as a Keras 2.x HDF5 file that Python loads with
keras.models.load_model("FILE.h5") (Keras 2, or Keras 3's .h5 loader). Inputs are expected
preprocessed as the bundle's happysad.json says (e.g. resized, pixels x 1/255).

Keras code reads a single sigmoid unit as p(second class in sorted order). A happysad model whose
score is p(first class), e.g. p(happy), is written with its last layer negated so the unit is
p(sad) = 1 - p(happy), exactly. Importing the file again restores the bundle as it was.
An ensemble (happysad ensemble) is not one chain of layers: export the models it was made from.

  --out FILE.h5        the file to write (written whole, or not at all)
  --overwrite          replace an existing FILE.h5 (a copy is kept as FILE.h5.previous)
  --format keras-h5    the only format so far                                [keras-h5]
  --json               print the result as one JSON line`;

export async function exportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, exportHelp, {
    out: { type: 'string', short: 'o' },
    format: { type: 'string', default: 'keras-h5' },
    overwrite: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new OptionError(`export takes one model folder\n\n${exportHelp}`);
  if (values.format !== 'keras-h5') throw new OptionError(`--format ${values.format}: the only export format is keras-h5`);
  if (!values.out) throw new OptionError(`export needs --out FILE.h5: where to write the Keras model\n\n${exportHelp}`);
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
