// Written by scripts/xs-stage.mjs into the XS stage: the manifest's `config` as mcconfig merges it for esp32 (mc/config).
declare const config: Readonly<Record<string, unknown>>;
export default config;
