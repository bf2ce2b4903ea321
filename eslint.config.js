// ESLint (flat config): typescript-eslint's recommended rules on every TypeScript file.
import tseslint from "typescript-eslint";

export default tseslint.config({ ignores: ["dist/", "node_modules/", "bench/results/", "infra/workloads/"] }, ...tseslint.configs.recommended, {
  rules: {
    "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
  },
});
