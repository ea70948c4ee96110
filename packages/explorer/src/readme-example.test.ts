// The README's API example, run (with the corpus path made absolute).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '@pagewalk/scenario';
import { loadReportData, renderReport, serveExplorer } from './index.js';
import { ScenarioExplorer } from './model/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README example', () => {
  it('is the code this test runs', () => {
    expect(readme).toContain("const html = renderReport(loadReportData('corpus/guard/guard-basic.json'));");
    expect(readme).toContain("const server = await serveExplorer(() => loadReportData('corpus/guard/guard-basic.json'));");
  });

  it('renders the page and serves it on 127.0.0.1', async () => {
    const file = `${root}corpus/guard/guard-basic.json`;
    const html = renderReport(loadReportData(file));
    expect(html).toContain('id="pagewalk-data"');
    const server = await serveExplorer(() => loadReportData(file));
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect((await fetch(server.url)).status).toBe(200);
    await server.close();
    const explorer = new ScenarioExplorer(parseScenario(readFileSync(file, 'utf8'), file));
    expect(explorer.tree(2, 0).levels.at(-1)?.kind).toBe('marker');
  });
});
