// `lbappliance status`: the System Overview of an appliance, as a table or as JSON.
import { parseArgs } from 'node:util';
import { CliError } from './cli-error.js';
import { CONNECTION_OPTIONS, withAppliance } from './connection.js';
import { colourWanted, formatOverview } from './overview-table.js';

/** Runs `status`. */
export async function status(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { ...CONNECTION_OPTIONS, json: { type: 'boolean' }, color: { type: 'string', default: 'auto' } },
    strict: true,
  });
  if (!['auto', 'always', 'never'].includes(values.color)) throw new CliError(`--color takes auto, always or never, not "${values.color}"`);
  const overview = await withAppliance(values, 'read the overview', ({ client }) => client.getOverview());
  if (values.json) process.stdout.write(`${JSON.stringify(overview, null, 2)}\n`);
  else process.stdout.write(formatOverview(overview, { colour: colourWanted(values.color, process.stdout) }));
}
