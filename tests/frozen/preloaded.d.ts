// Written by scripts/xs-stage.mjs into the XS stage: every preloaded module's namespace, by its specifier.
export const preloaded: readonly (readonly [string, Readonly<Record<string, unknown>>])[];
