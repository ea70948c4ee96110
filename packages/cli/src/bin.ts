#!/usr/bin/env node
// The `pagewalk` executable.
import { main, processIo } from './main.js';

main(process.argv.slice(2), processIo).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    // main() catches everything; this is the last line of defence.
    process.stderr.write(`pagewalk: ${error instanceof Error ? error.message.split('\n')[0] : String(error)} (internal error)\n`);
    process.exitCode = 2;
  },
);
