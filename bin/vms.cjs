#!/usr/bin/env node
// The `vms` command: registers tsx's require hook, then runs the TypeScript entry (main/vms.ts).
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports */
"use strict";

require("tsx/cjs");
require("../main/vms.ts");
