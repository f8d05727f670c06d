// Runs `happysad serve` without going through cli/main.ts, so the command can be tested on its own.
import { serveCommand } from '../../cli/commands/serveCommand.js';

process.exitCode = await serveCommand(process.argv.slice(2));
