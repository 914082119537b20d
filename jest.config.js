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
  // Two files at once: each owns its database, RabbitMQ vhost, ports and temp folders, and most
  // of a file's time is spent waiting on its child processes (the service, the clients, tempest),
  // so the second core is otherwise half idle. Serial, npm test took 23.5 min in CI.
  maxWorkers: 2,
};
