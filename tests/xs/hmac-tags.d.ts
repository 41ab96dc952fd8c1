// Written by scripts/xs-stage.mjs into the XS stage: HMAC-SHA256 tags (hex) by tests/support/hmac.ts's tagKey().
export const tags: Readonly<Record<string, string>>;
