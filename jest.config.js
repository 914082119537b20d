/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // The lab tier (test/lab/*.lab.test.ts) needs the UML lab: `npm run test:lab`. The browser tier
  // (test/browser/*.browser.test.ts) has its own run and config: `npm run test:browser`.
  testPathIgnorePatterns: [
    "/node_modules/",
    "<rootDir>/test/lab/",
    "<rootDir>/test/browser/",
    "<rootDir>/test/reliability/",
  ],
  transform: {
    "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
  },
  testTimeout: 60000,
  // Each integration file owns a database and real child processes; keep runs serial and predictable.
  maxWorkers: 1,
};
