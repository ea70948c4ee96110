// The local web app: an HTTP server bound to 127.0.0.1 only, answering
// GET / with the report page (rebuilt from the file on every load, so
// editing the scenario and reloading shows the change) and, when this
// host's kernel can run scenarios, POST /api/kernel-run: the scenario in
// the request body run on the live kernel (one run at a time).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRecordingProfile, type RecordingProfile } from '@pagewalk/scenario';
import { kernelRunnerProcess, type LiveKernel, type LiveKernelProbe } from './live-kernel.js';
import { parseScenarioText, scenarioErrorLine } from './model/explorer.js';
import type { LiveKernelStatus, ReportData } from './model/report-data.js';
import { renderReport } from './report.js';

export interface ExplorerServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** 0 (the default): any free port. */
  port?: number;
  /** The kernel that POST /api/kernel-run runs on (default: @pagewalk/kernel-runner in a child process); null: no live runs. */
  kernel?: LiveKernel | null;
}

export const EXPLORER_HOST = '127.0.0.1';
/** The one path that takes a POST: `{"scenario": "<scenario JSON text>", "profile": <recording profile> | null}`. */
export const KERNEL_RUN_PATH = '/api/kernel-run';
/** Largest request body accepted (the scenario's text). */
export const MAX_REQUEST_BYTES = 1 << 20;

function json(response: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers }).end(`${JSON.stringify(value)}\n`);
}
function text(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(body);
}

/** The body, or null (and a 413 sent) when it is larger than MAX_REQUEST_BYTES. */
function readBody(request: IncomingMessage, response: ServerResponse): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => {
      json(response, 413, { error: `pagewalk: request larger than ${MAX_REQUEST_BYTES} bytes` }, { connection: 'close' });
      request.resume();
      resolve(null);
    };
    if (Number(request.headers['content-length'] ?? 0) > MAX_REQUEST_BYTES) {
      tooLarge();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    request.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        done = true;
        tooLarge();
      } else chunks.push(chunk);
    });
    request.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', reject);
  });
}

/** Serves the explorer for `load()`'s data on 127.0.0.1:port (0: any free port). */
export function serveExplorer(load: () => ReportData, options: ServeOptions = {}): Promise<ExplorerServer> {
  const kernel = options.kernel === undefined ? kernelRunnerProcess() : options.kernel;
  let probed: Promise<LiveKernelProbe> | null = null;
  const probe = (): Promise<LiveKernelProbe> =>
    (probed ??= kernel === null ? Promise.resolve({ available: false, reason: 'this server was started without live kernel runs' }) : kernel.probe());
  let running = false;
  let port = 0;
  /** Only our own names for the server (DNS rebinding: another name resolving to 127.0.0.1 is refused). */
  const ownHost = (host: string | undefined) => host === `${EXPLORER_HOST}:${port}` || host === `localhost:${port}`;

  const kernelRun = async (request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'POST') return text(response, 405, 'POST only\n', { allow: 'POST' });
    // A page from elsewhere may not drive the kernel: its Origin is not ours, and it
    // cannot send application/json without a CORS preflight, which is never answered.
    const origin = request.headers.origin;
    if (origin !== undefined && !ownHost(origin.replace(/^http:\/\//, ''))) return json(response, 403, { error: 'pagewalk: cross-origin request refused' });
    if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) return json(response, 415, { error: 'pagewalk: send the request as application/json' });
    const body = await readBody(request, response);
    if (body === null) return;
    let scenarioText: unknown;
    let profileValue: unknown;
    try {
      ({ scenario: scenarioText, profile: profileValue } = JSON.parse(body) as { scenario?: unknown; profile?: unknown });
    } catch (error) {
      return json(response, 400, { error: `pagewalk: request: ${scenarioErrorLine(error).replace(/^pagewalk: /, '')}` });
    }
    if (typeof scenarioText !== 'string') return json(response, 400, { error: 'pagewalk: request: field "scenario" must be the scenario\'s JSON text' });
    const parsed = parseScenarioText(scenarioText);
    if ('error' in parsed) return json(response, 400, { error: parsed.error });
    let profile: RecordingProfile | null = null;
    if (profileValue !== undefined && profileValue !== null) {
      try {
        profile = parseRecordingProfile(profileValue, 'request');
      } catch (error) {
        return json(response, 400, { error: scenarioErrorLine(error) });
      }
    }
    const host = await probe();
    if (!host.available || kernel === null) return json(response, 503, { error: `pagewalk: kernel runner unavailable: ${host.available ? 'no kernel' : host.reason}` });
    if (running) return json(response, 409, { error: 'pagewalk: a kernel run is in progress; one run at a time' });
    running = true;
    try {
      json(response, 200, await kernel.run(parsed.scenario, profile));
    } catch (error) {
      json(response, 500, { error: scenarioErrorLine(error) });
    } finally {
      running = false;
    }
  };

  const page = async (request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(response, 405, 'GET only\n', { allow: 'GET, HEAD' });
    let html: string;
    try {
      const host = await probe();
      const live: LiveKernelStatus = host.available ? { available: true, profile: host.profile, endpoint: KERNEL_RUN_PATH } : host;
      html = renderReport({ ...load(), live });
    } catch (error) {
      return text(response, 500, `pagewalk: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`);
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(request.method === 'HEAD' ? undefined : html);
  };

  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (!ownHost(request.headers.host)) {
      text(response, 403, 'unknown host\n');
      return;
    }
    if (path !== KERNEL_RUN_PATH && path !== '/' && path !== '/index.html') {
      text(response, request.method === 'GET' || request.method === 'HEAD' ? 404 : 405, 'not found\n');
      return;
    }
    (path === KERNEL_RUN_PATH ? kernelRun(request, response) : page(request, response)).catch((error: unknown) => {
      if (!response.headersSent) text(response, 500, `${scenarioErrorLine(error)}\n`);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, EXPLORER_HOST, () => {
      port = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${EXPLORER_HOST}:${port}/`,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
