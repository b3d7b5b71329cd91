#!/usr/bin/env node
// `npm run backends -- <terarecon|agfa|insignia> [--run-dir DIR] [--relocate FROM=TO]`:
// starts every backend of an example on its loopback addresses, prints what listens where,
// and stops everything (storescp processes included) on Ctrl-C or SIGTERM. --relocate moves
// the plan (e.g. 127.0.60.=127.0.97.) to run a second copy beside the first.
import { parseArgs } from 'node:util';
import { BackendError } from './errors.js';
import { profileByName, profiles, relocateProfile } from './profiles/index.js';
import { startBackends } from './supervisor.js';

const USAGE = `usage: npm run backends -- <${Object.keys(profiles).join('|')}> [--run-dir DIR] [--relocate FROM=TO]`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ options: { 'run-dir': { type: 'string' }, relocate: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  let profile = profileByName(positionals[0]!);
  if (values.relocate !== undefined) {
    const [from, to] = values.relocate.split('=');
    if (!from || !to) {
      console.log(USAGE);
      return 2;
    }
    profile = relocateProfile(profile, from, to);
  }
  const running = await startBackends(profile, { runDir: values['run-dir'], removeRunDir: false });
  console.log(`${profile.title} backends (run dir ${running.runDir})\n`);
  console.log(running.table());
  console.log(`\nbackends ready: ${running.services.length} services on ${running.hosts.length} servers. Ctrl-C stops them.`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        console.error(`${signal} again: exiting without waiting`);
        process.exit(1);
      }
      stopping = true;
      console.log(`\n${signal}: stopping backends`);
      running.stop().then(
        () => {
          console.log('backends stopped');
          resolve(0);
        },
        (err: unknown) => {
          console.error(`stopping failed: ${String(err)}`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // If whatever started us dies without passing a signal on (npm killed with -9, a closed
    // terminal), we are reparented: stop rather than hold the ports as an orphan.
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) onSignal('SIGHUP');
    }, 1_000).unref();
    process.on('SIGHUP', onSignal);
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof BackendError ? err.message : err);
    process.exit(1);
  },
);
