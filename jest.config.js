/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // The lab tier (test/lab/*.lab.test.ts) needs the UML lab: `npm run test:lab`.
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/lab/"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
  },
  testTimeout: 60000,
  // Each integration file owns a database and real child processes; keep runs serial and predictable.
  maxWorkers: 1,
};
