import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The page is served by the fusescope server from dist/ (same origin as its /ws endpoint).
// src/trace is imported by relative path like any other module, so server and browser share it.
export default defineConfig({
  plugins: [react()],
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
  },
});
