import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import importX from "eslint-plugin-import-x";
import simpleImportSort from "eslint-plugin-simple-import-sort";
import tseslint from "typescript-eslint";

/**
 * The layers, top to bottom (CONTRIBUTING.md): a file may import only from its own layer or one
 * below it. The entry alone wires processes together. Circles, type-only ones included, are
 * refused by `npm run lint:cycles` (dpdm), since import-x/no-cycle skips type imports.
 */
const LAYERS = ["main", "api", "services", "drivers", "db", "common"];
const layerZones = LAYERS.slice(1).map((layer, i) => ({
  target: `./${layer}`,
  from: LAYERS.slice(0, i + 1).map((above) => `./${above}`),
  message: `${layer}/ sits below ${LAYERS.slice(0, i + 1).join(", ")}: imports only point down (main > api > services > drivers > db > common).`,
}));

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "data/", "coverage/", "jest.config.js", "test/lab/.cache/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { project: "./tsconfig.json", tsconfigRootDir: import.meta.dirname } },
    plugins: { "import-x": importX, "simple-import-sort": simpleImportSort },
    settings: {
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "./tsconfig.json" })],
    },
    rules: {
      curly: "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "import-x/no-restricted-paths": ["error", { zones: layerZones }],
      "import-x/no-duplicates": "error",
      "simple-import-sort/imports": "error",
      "simple-import-sort/exports": "error",
    },
  },
  {
    // The dashboard's browser modules (api/dashboard/, served as they are: no build step).
    files: ["api/dashboard/**/*.js"],
    languageOptions: {
      sourceType: "module",
      globals: Object.fromEntries(
        [
          "AbortController",
          "TextDecoderStream",
          "addEventListener",
          "clearInterval",
          "clearTimeout",
          "document",
          "fetch",
          "location",
          "removeEventListener",
          "sessionStorage",
          "setInterval",
          "setTimeout",
        ].map((name) => [name, "readonly"]),
      ),
    },
    rules: { curly: "error" },
  },
  prettier,
);
