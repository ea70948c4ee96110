// Builds the browser app (src/app/main.ts and everything it imports: the
// simulator packages from their TypeScript sources) into one IIFE script,
// dist/app/explorer.js, that the report inlines into a single HTML file.
import { defineConfig } from 'vite';

export default defineConfig({
  resolve: { conditions: ['@pagewalk/source', 'browser', 'module', 'import', 'default'] },
  logLevel: 'warn',
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    target: 'es2022',
    minify: true,
    sourcemap: false,
    reportCompressedSize: false,
    lib: { entry: 'src/app/main.ts', formats: ['iife'], name: 'PagewalkExplorer', fileName: () => 'explorer.js' },
  },
});
