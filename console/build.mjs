// Bundles the console into dist/: index.html and one script under assets/, everything from
// node_modules (no CDN, no font or icon fetched at run time). `npm run build`.
import * as esbuild from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';

await rm('dist', { recursive: true, force: true });
await mkdir('dist/assets', { recursive: true });
await esbuild.build({
    entryPoints: ['src/main.jsx'],
    bundle: true,
    minify: true,
    outfile: 'dist/assets/console.js',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
});
await copyFile('src/index.html', 'dist/index.html');
