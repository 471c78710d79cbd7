import { defineConfig } from "vite";

// The cockpit is served by the Python API at "/", so it is built straight into the
// package folder the API serves (git-ignored; the Makefile rebuilds it).
export default defineConfig({
  base: "/",
  build: {
    outDir: "../src/opencitybrain/api/cockpit_dist",
    emptyOutDir: true,
    target: "es2022",
    // MapLibre alone is ~800 kB minified; it is loaded once and cached, so raise the
    // warning limit instead of splitting it further.
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        manualChunks: {
          maplibre: ["maplibre-gl"],
          echarts: ["echarts/core", "echarts/charts", "echarts/components", "echarts/renderers"],
        },
      },
    },
  },
  server: {
    // `npm run dev` proxies the API to a local `citybrain demo` (default port 8000).
    proxy: { "/api": "http://127.0.0.1:8000", "/ngsi-ld": "http://127.0.0.1:8000" },
  },
});
