// ESLint: typescript-eslint's type-checked rules on the TypeScript (each file checked with the tsconfig that builds it:
// tsconfig.json for Node's build, tsconfig.moddable.json for what only the Moddable hosts compile), ESLint's
// recommended rules on the scripts and benches. Layout is Prettier's (.prettierrc.json): eslint-config-prettier
// turns off every rule that would disagree with it.
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import prettier from "eslint-config-prettier";
import globals from "globals";
import tseslint from "typescript-eslint";

export default defineConfig(
  // modules/**/*.js are XS host-function bindings (`@ "xs_…"`), which no JavaScript parser but XS's reads.
  { ignores: ["build/", ".xsnap/", "node_modules/", "telltale-flash*/", "modules/**/*.js"] },
  js.configs.recommended,
  {
    files: ["**/*.ts"],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        project: ["./tsconfig.json", "./tsconfig.moddable.json"],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A promise nobody awaits or catches loses its error: on a device, an unhandled rejection and a silent fault.
      // node:test's test() and suite() return promises the runner itself awaits.
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            { from: "package", package: "node:test", name: ["test", "describe", "it", "suite"] },
          ],
        },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    ignores: ["dashboard/public/**"],
    languageOptions: { globals: globals.node },
  },
  {
    // The dashboard's page runs in the browser (an ES module, no build step).
    files: ["dashboard/public/**/*.js"],
    languageOptions: { globals: globals.browser, sourceType: "module" },
  },
  prettier,
);
