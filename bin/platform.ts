#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { main } from '../lib/cli.js';
import { lessEagerTurbofan } from '../lib/turbofan.js';

for (const flag of lessEagerTurbofan()) setFlagsFromString(flag);

process.exitCode = await main(process.argv.slice(2));
