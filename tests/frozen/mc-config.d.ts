// Written by scripts/xs-stage.mjs into the XS stage: mc/config as mcconfig merges it for esp32 (manifest.json and its includes).
declare const config: Readonly<Record<string, unknown>>;
export default config;
