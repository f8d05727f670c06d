/**
 * Rewrites the README's command reference (between <!-- commands:start --> and
 * <!-- commands:end -->) from the CLI's command table: `npm run docs:cli`. A test fails when the
 * README and the table disagree, so the reference cannot drift from the parser.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { commandReferenceMarkdown } from '../cli/commandHelp.js';

const file = new URL('../README.md', import.meta.url);
const readme = await readFile(file, 'utf8');
const pattern = /(<!-- commands:start -->\n)[\s\S]*?(<!-- commands:end -->)/;
if (!pattern.test(readme)) throw new Error('README.md lacks the <!-- commands:start --> / <!-- commands:end --> markers');
await writeFile(file, readme.replace(pattern, (_m, start: string, end: string) => `${start}${commandReferenceMarkdown()}\n${end}`));
console.log('README.md: command reference rewritten from cli/commandTable.ts');
