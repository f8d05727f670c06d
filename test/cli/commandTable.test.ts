import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMAND_TABLE, type CommandName } from '../../cli/commandTable.js';
import { commandReferenceMarkdown, formatCommandHelp } from '../../cli/commandHelp.js';
import { parseCommand } from '../../cli/parseCommand.js';
import { cacheRoot } from '../../src/io/cacheRoot.js';
import { OptionError } from '../../src/base/errors.js';
import { cliArgs } from '../../testkit/compiledCli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const happysad = (...args: string[]) => {
  const r = spawnSync(process.execPath, [...cliArgs(), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const names = Object.keys(COMMAND_TABLE) as CommandName[];

test('every option the parser accepts is in its command\'s help, and nothing else is accepted', () => {
  for (const name of names) {
    const help = formatCommandHelp(name);
    for (const [flag, o] of Object.entries(COMMAND_TABLE[name].options)) {
      assert.match(help, new RegExp(`--${flag}\\b`), `${name} --help lacks --${flag}`);
      const argv = o.type === 'boolean' ? [`--${flag}`] : [`--${flag}`, 'x'];
      assert.doesNotThrow(() => parseCommand(argv, name), `${name} rejects its own --${flag}`);
    }
    assert.throws(() => parseCommand(['--no-such-flag'], name), (e: unknown) => e instanceof OptionError && e.message.includes(`happysad help ${name}`));
  }
});

test('help CMD, CMD --help and the README\'s reference all come from the table', () => {
  const viaHelp = happysad('help', 'train');
  assert.equal(viaHelp.code, 0);
  assert.equal(viaHelp.stdout.trimEnd(), formatCommandHelp('train'));
  assert.equal(happysad('train', '--help').stdout, viaHelp.stdout);
  assert.match(viaHelp.stdout, /--json/, 'train --json is documented');
});

test('the README\'s command reference is the generated one (npm run docs:cli rewrites it)', async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const section = /<!-- commands:start -->\n([\s\S]*?)\n<!-- commands:end -->/.exec(readme);
  assert.ok(section, 'README.md has the <!-- commands:start --> ... <!-- commands:end --> markers');
  assert.equal(section[1], commandReferenceMarkdown());
});

test('exit codes: 2 for a usage error, 1 for a runtime failure; --json failures are JSON on stdout', async () => {
  const unknownFlag = happysad('evaluate', 'x', '--frobnicate');
  assert.equal(unknownFlag.code, 2);
  assert.match(unknownFlag.stderr, /unknown option --frobnicate;.*happysad help evaluate/);
  const missing = happysad('evaluate', join(root, 'no-such-folder'), '--no-faces');
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /no-such-folder/);
  const asJson = happysad('evaluate', join(root, 'no-such-folder'), '--no-faces', '--json');
  assert.equal(asJson.code, 1);
  const { error } = JSON.parse(asJson.stdout) as { error: { code: string; message: string } };
  assert.equal(typeof error.code, 'string');
  assert.match(error.message, /no-such-folder/);
  const usageJson = happysad('arch', 'seed-a', '--input', 'banana', '--json');
  assert.equal(usageJson.code, 2);
  assert.equal(JSON.parse(usageJson.stdout).error.code, 'option');
  const version = happysad('--version');
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).version);
});

test('the cache follows $HAPPYSAD_CACHE, else an absolute $XDG_CACHE_HOME, else ~/.cache', () => {
  assert.equal(cacheRoot({ HAPPYSAD_CACHE: '/x/c', XDG_CACHE_HOME: '/y' }), '/x/c');
  assert.equal(cacheRoot({ XDG_CACHE_HOME: '/y' }), '/y/happysad');
  assert.match(cacheRoot({ XDG_CACHE_HOME: 'relative/ignored' }), /\/\.cache\/happysad$/);
  assert.match(cacheRoot({}), /\/\.cache\/happysad$/);
});
