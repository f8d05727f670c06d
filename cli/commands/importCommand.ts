import { parseInputShape } from '../../src/input/preprocessSpec.js';
import { OptionError } from '../../src/base/errors.js';
import { importKerasModel } from '../../src/interop/keras/index.js';
import { parseCommand } from '../parseCommand.js';

export async function importCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, 'import');
  if (positionals.length !== 1) throw new OptionError(`import takes one .h5 file (happysad help import)`);
  if (!values.out) throw new OptionError(`import needs --out MODEL_DIR: where to write the bundle (happysad help import)`);
  const result = await importKerasModel(positionals[0], {
    out: values.out,
    overwrite: values.overwrite,
    classes: values.classes?.split(',').map((c) => c.trim()),
    scale: values.scale === undefined ? undefined : parseScale(values.scale),
    input: values.input ? parseInputShape(values.input) : undefined,
  });
  const m = result.bundle.metadata;
  const p = m.preprocessing;
  const params = result.bundle.model.countParams();
  result.bundle.model.dispose();
  if (values.json) {
    console.log(JSON.stringify({
      out: values.out, keras: result.keras, classes: m.classes, output: m.output, positiveClass: m.positiveClass, threshold: m.threshold,
      input: [p.height, p.width, p.channels], scale: p.scale, offset: p.offset, params, notes: result.notes,
    }));
    return 0;
  }
  const meaning = m.output === 'sigmoid' ? `one sigmoid unit = p(${m.positiveClass})` : `softmax over ${m.classes.join(', ')}`;
  console.log(`Imported ${positionals[0]} (Keras ${result.keras.version}, ${result.keras.modelClass} '${result.keras.modelName}', ${params.toLocaleString('en-US')} parameters) to ${values.out}`);
  console.log(`  classes   ${m.classes.join(', ')} (${meaning}; score = p(${m.positiveClass}))`);
  console.log(`  input     ${p.height}x${p.width}x${p.channels}, pixels x ${formatScale(p.scale)}${p.offset ? ` + ${p.offset}` : ''}`);
  for (const note of result.notes) console.log(`  note      ${note}`);
  console.log(`\nTry: happysad predict photo.jpg --model ${values.out}`);
  return 0;
}

/** `0.00392`, `1/255` or `1`. */
function parseScale(text: string): number {
  const m = /^\s*([0-9.eE+-]+)\s*(?:\/\s*([0-9.eE+-]+))?\s*$/.exec(text);
  const value = m ? Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2])) : NaN;
  if (!Number.isFinite(value) || value <= 0) throw new OptionError(`--scale ${text}: expected a positive number such as 1/255 or 0.00392`);
  return value;
}

/** 1/255 rather than 0.00392156862745098 where the scale is one over a short number. */
function formatScale(scale: number): string {
  const inverse = Number((1 / scale).toFixed(3));
  return scale < 1 && Math.abs(1 / inverse - scale) < 1e-12 ? `1/${inverse}` : String(scale);
}
