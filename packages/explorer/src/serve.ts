// The local web app: an HTTP server bound to 127.0.0.1 only, answering
// GET / with the report page (rebuilt from the file on every load, so
// editing the scenario and reloading shows the change).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReportData } from './model/report-data.js';
import { renderReport } from './report.js';

export interface ExplorerServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export const EXPLORER_HOST = '127.0.0.1';

/** Serves the explorer for `load()`'s data on 127.0.0.1:port (0: any free port). */
export function serveExplorer(load: () => ReportData, options: { port?: number } = {}): Promise<ExplorerServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path !== '/' && path !== '/index.html') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    let page: string;
    try {
      page = renderReport(load());
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`pagewalk: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(request.method === 'HEAD' ? undefined : page);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, EXPLORER_HOST, () => {
      const { port } = server.address() as AddressInfo;
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
