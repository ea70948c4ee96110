// `pagewalk explore [SCENARIO.json]`: the scenario in the browser — served on
// 127.0.0.1, or written with --out as one self-contained HTML file that opens
// from disk. The page itself is @pagewalk/explorer's.
import { writeFileSync } from 'node:fs';
import { EXAMPLE_SCENARIO, loadReportData, renderReport, serveExplorer, type ReportData } from '@pagewalk/explorer';
import { CliError, UsageError } from './cli-error.js';
import { readScenarioFile } from './scenario-files.js';

export interface ExploreOptions {
  /** Scenario file; the built-in example when absent. */
  file?: string;
  /** Write the static report here instead of serving. */
  out?: string;
  port?: number;
  stdout(text: string): void;
  /** Resolves when the server should stop (SIGINT / SIGTERM by default). */
  until?: Promise<void>;
}

function dataFor(file: string | undefined): ReportData {
  if (file === undefined) return { file: 'example.json', scenarioText: `${JSON.stringify(EXAMPLE_SCENARIO, null, 2)}\n` };
  readScenarioFile(file); // validates: a bad file is the CLI's one-line error
  try {
    return loadReportData(file);
  } catch (error) {
    throw new CliError(`${file}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}

const signalled = (): Promise<void> =>
  new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

export async function explore(options: ExploreOptions): Promise<number> {
  const first = dataFor(options.file);
  if (options.out !== undefined) {
    if (options.port !== undefined) throw new UsageError('"--out" writes a file and "--port" serves: give one of them');
    writeFileSync(options.out, renderReport(first));
    const recordings = first.recordings ?? [];
    options.stdout(`pagewalk explore: wrote ${options.out} (${first.file}${recordings.length === 0 ? '' : `, with ${recordings.map((recording) => recording.file).join(', ')}`}); open it in a browser, no server needed\n`);
    return 0;
  }
  const server = await serveExplorer(() => dataFor(options.file), { port: options.port ?? 0 });
  options.stdout(`pagewalk explore: ${first.file} on ${server.url} (127.0.0.1 only; Ctrl-C stops)\n`);
  await (options.until ?? signalled());
  await server.close();
  return 0;
}
