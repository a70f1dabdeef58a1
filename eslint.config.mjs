// ESLint for the storefront widget (extensions/loyalty-widget/assets): a classic script that
// runs in shoppers' browsers, so browser globals only and no modules.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["extensions/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: { ...globals.browser },
    },
    rules: {
      eqeqeq: "error",
      "no-var": "error",
      "prefer-const": "error",
      strict: ["error", "function"],
      "no-implicit-globals": "error",
      "no-unused-vars": ["error", { caughtErrors: "all" }],
    },
  },
];
