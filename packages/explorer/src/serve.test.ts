// The local server's POST /api/kernel-run: on this machine's real kernel
// (when the kernel runner is usable here), with the runner turned off by
// PAGEWALK_KERNEL_RUNNER=unavailable, and its guards.
import { request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelSupport } from '@pagewalk/kernel-runner';
import { canonicalResults, parseScenario, type RecordingProfile } from '@pagewalk/scenario';
import { kernelRunnerProcess, type LiveKernel } from './live-kernel.js';
import { defaultRecordingIndex, parseScenarioText, prepareRecordings, ScenarioExplorer } from './model/index.js';
import { loadReportData } from './report.js';
import { KERNEL_RUN_PATH, MAX_REQUEST_BYTES, serveExplorer, type ExplorerServer } from './serve.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const MLOCK = join(root, 'corpus/core/mlock-readonly-zero.json');
const mlockText = readFileSync(MLOCK, 'utf8');
const BAD = '{"name": "x", "arena_pages": 4, "ops": [{"op": "mmap", "page": 0, "pages": 9, "prot": "rw"}, {"op": "nope"}]}';

interface Answer {
  status: number;
  body: string;
  json: () => Record<string, any>;
}

/** One HTTP request (node:http, so that Host and chunked bodies are ours to choose). */
function send(server: ExplorerServer, path: string, options: { method?: string; headers?: Record<string, string>; body?: string | string[] } = {}): Promise<Answer> {
  const url = new URL(path, server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body) as Record<string, any> }));
    });
    req.on('error', reject);
    for (const chunk of typeof options.body === 'string' ? [options.body] : (options.body ?? [])) req.write(chunk);
    req.end();
  });
}

const post = (server: ExplorerServer, value: unknown, headers: Record<string, string> = {}) =>
  send(server, KERNEL_RUN_PATH, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof value === 'string' ? value : JSON.stringify(value) });

/** The data embedded in the served page. */
async function pageData(server: ExplorerServer): Promise<Record<string, any>> {
  const page = await send(server, '/');
  expect(page.status).toBe(200);
  return JSON.parse(/<script type="application\/json" id="pagewalk-data">(.*?)<\/script>/s.exec(page.body)![1]!) as Record<string, any>;
}

const support = kernelSupport();

describe.skipIf(!support.available)(`POST ${KERNEL_RUN_PATH} on this machine's kernel${support.available ? '' : ` (skipped: ${support.reason})`}`, () => {
  let server: ExplorerServer;
  beforeAll(async () => {
    server = await serveExplorer(() => loadReportData(MLOCK));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('embeds the host profile and offers the endpoint', async () => {
    const data = await pageData(server);
    expect(data.live).toMatchObject({ available: true, endpoint: KERNEL_RUN_PATH, profile: { kernel: expect.any(String), zero_page: expect.any(Boolean) } });
    expect(data.recordings.map((r: { tag: string }) => r.tag)).toEqual(['', 'nozero']);
  });

  it('runs the scenario on the live kernel: the results equal the recording made under this host configuration and the simulator under the reported profile', async () => {
    const answer = await post(server, { scenario: mlockText });
    expect(answer.status).toBe(200);
    const { results, profile } = answer.json() as { results: never[]; profile: RecordingProfile };
    expect(results).toHaveLength(4);
    const scenario = parseScenario(mlockText, MLOCK);
    const recordings = prepareRecordings(scenario, loadReportData(MLOCK).recordings);
    const picked = recordings[defaultRecordingIndex(recordings, profile)]!;
    if (picked.profile!.zero_page === profile.zero_page) expect(canonicalResults(results)).toEqual(canonicalResults(picked.results!));
    const live = new ScenarioExplorer(prepareRecordings(scenario, [{ file: 'live', tag: 'live', value: { results, profile } }])[0]!.scenario, { categories: false });
    expect(live.diff(results).first).toBeNull();
  }, 60_000);

  it('runs under a recording profile the host cannot give: skipped with the reason', async () => {
    const host = (await pageData(server)).live.profile as RecordingProfile;
    const answer = await post(server, { scenario: mlockText, profile: { ...host, zero_page: !host.zero_page } });
    expect(answer.status).toBe(200);
    expect(answer.json().skipped).toMatch(/zero_page/);
  }, 60_000);

  it('an invalid scenario is the CLI one-line error, and nothing runs', async () => {
    const answer = await post(server, { scenario: BAD });
    expect(answer.status).toBe(400);
    const expected = parseScenarioText(BAD) as { error: string };
    expect(answer.json()).toEqual({ error: expected.error });
    expect(expected.error).toMatch(/^pagewalk: scenario\.json: /);
    expect(expected.error.split('\n')).toHaveLength(1);
    const profile = await post(server, { scenario: mlockText, profile: { kernel: '6.18' } });
    expect(profile.status).toBe(400);
    expect(profile.json().error).toMatch(/^pagewalk: request: .*profile\./);
  });
});

describe(`POST ${KERNEL_RUN_PATH} with PAGEWALK_KERNEL_RUNNER=unavailable`, () => {
  it('the page says why, and the endpoint answers 503 with the reason', async () => {
    const server = await serveExplorer(() => loadReportData(MLOCK), { kernel: kernelRunnerProcess({ env: { ...process.env, PAGEWALK_KERNEL_RUNNER: 'unavailable' } }) });
    try {
      expect((await pageData(server)).live).toEqual({ available: false, reason: 'PAGEWALK_KERNEL_RUNNER=unavailable is set' });
      const answer = await post(server, { scenario: mlockText });
      expect(answer.status).toBe(503);
      expect(answer.json().error).toBe('pagewalk: kernel runner unavailable: PAGEWALK_KERNEL_RUNNER=unavailable is set');
      // An invalid scenario is still reported as such.
      expect((await post(server, { scenario: BAD })).status).toBe(400);
    } finally {
      await server.close();
    }
  }, 30_000);

  it('a server without live runs says so', async () => {
    const server = await serveExplorer(() => loadReportData(MLOCK), { kernel: null });
    try {
      expect((await pageData(server)).live).toMatchObject({ available: false });
      expect((await post(server, { scenario: mlockText })).status).toBe(503);
    } finally {
      await server.close();
    }
  });
});

describe('the server is safe to leave running', () => {
  /** A fake kernel whose runs finish when told to. */
  function heldKernel() {
    const finishes: (() => void)[] = [];
    let runs = 0;
    const kernel: LiveKernel = {
      probe: async () => ({ available: true, profile: { kernel: '6.18.44', zero_page: false } as RecordingProfile }),
      run: () => {
        runs++;
        return new Promise((resolve) => finishes.push(() => resolve({ skipped: 'fake' })));
      },
    };
    return { kernel, finish: () => finishes.splice(0).forEach((f) => f()), runs: () => runs };
  }

  let server: ExplorerServer;
  const held = heldKernel();
  beforeAll(async () => {
    server = await serveExplorer(() => loadReportData(MLOCK), { kernel: held.kernel });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('listens on 127.0.0.1 only', () => {
    expect(server.server.address()).toMatchObject({ address: '127.0.0.1' });
  });

  it('runs one scenario at a time: a second run meanwhile is refused with 409', async () => {
    const first = post(server, { scenario: mlockText });
    for (let i = 0; i < 100 && held.runs() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const second = await post(server, { scenario: mlockText });
    expect(second.status).toBe(409);
    expect(second.json().error).toMatch(/one run at a time/);
    // The page is still served meanwhile.
    expect((await send(server, '/')).status).toBe(200);
    held.finish();
    expect((await first).json()).toEqual({ skipped: 'fake' });
    expect(held.runs()).toBe(1);
    const third = post(server, { scenario: mlockText });
    for (let i = 0; i < 100 && held.runs() === 1; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    held.finish();
    expect((await third).status).toBe(200);
  });

  it('takes POST on that path only', async () => {
    expect((await send(server, KERNEL_RUN_PATH)).status).toBe(405);
    expect((await send(server, '/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(405);
    expect((await send(server, '/api/other', { method: 'POST', body: '{}' })).status).toBe(405);
    expect((await send(server, '/nope')).status).toBe(404);
  });

  it('limits the request size, with and without a content-length', async () => {
    const big = JSON.stringify({ scenario: ' '.repeat(MAX_REQUEST_BYTES) });
    const stated = await post(server, big);
    expect(stated.status).toBe(413);
    expect(stated.json().error).toMatch(/^pagewalk: request larger than/);
    const chunk = 'x'.repeat(64 << 10);
    const chunked = await send(server, KERNEL_RUN_PATH, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, body: Array.from({ length: 20 }, () => chunk) });
    expect(chunked.status).toBe(413);
    expect(held.runs()).toBe(2);
  });

  it('refuses other origins, other host names and non-JSON bodies (no cross-site form posts)', async () => {
    expect((await post(server, { scenario: mlockText }, { origin: 'http://example.com' })).status).toBe(403);
    const same = post(server, { scenario: mlockText }, { origin: server.url.replace(/\/$/, '') });
    for (let i = 0; i < 100 && held.runs() === 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    held.finish();
    expect((await same).status).toBe(200);
    expect((await send(server, '/', { headers: { host: 'attacker.example:80' } })).status).toBe(403);
    expect((await send(server, KERNEL_RUN_PATH, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ scenario: mlockText }) })).status).toBe(415);
    expect((await post(server, '{')).json().error).toMatch(/^pagewalk: request: /);
    expect((await post(server, { scenario: { name: 'x' } })).status).toBe(400);
  });
});
