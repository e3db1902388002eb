// @ts-check
const { defineConfig, globalIgnores } = require("eslint/config");
const js = require("@eslint/js");
const tseslint = require("typescript-eslint");

/** Browser globals the web client may use (the `globals` package is not a dependency). */
const browserGlobals = Object.fromEntries(
  [
    "window",
    "document",
    "location",
    "history",
    "navigator",
    "localStorage",
    "sessionStorage",
    "console",
    "WebSocket",
    "URL",
    "URLSearchParams",
    "fetch",
    "crypto",
    "setTimeout",
    "clearTimeout",
    "setInterval",
    "clearInterval",
    "requestAnimationFrame",
    "Intl",
    "Event",
    "CustomEvent",
    "HTMLElement",
    "HTMLInputElement",
    "HTMLFormElement",
    "KeyboardEvent",
    "Notification",
    "alert",
    "TextEncoder",
    "TextDecoder",
    "atob",
    "queueMicrotask",
    "structuredClone",
    "performance",
  ].map((name) => [name, "readonly"]),
);

module.exports = defineConfig(
  globalIgnores(["node_modules/", "dist/", "coverage/", ".data/", "bench/.work/", "web/vendor/", ".pulumi/"]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // The browser client: plain ES modules, no bundler.
    files: ["web/**/*.js"],
    ignores: ["web/vendor/**"],
    languageOptions: { sourceType: "module", globals: browserGlobals },
  },
  {
    // CommonJS config files (this one, jest.config.js).
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { require: "readonly", module: "writable", __dirname: "readonly", process: "readonly" },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
