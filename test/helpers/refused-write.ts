// A write that must be refused: returns its problem error after checking that the whole
// configuration is exactly as before (a refused write changes nothing). Shared by the rule
// suites, so every refusal is held to the same standard.
import { expect } from 'vitest';
import type { ApplianceClient, ApplianceProblemError } from '../../openapi/sdk/index.js';

export async function refusedWrite(client: ApplianceClient, write: () => Promise<unknown>): Promise<ApplianceProblemError> {
  const before = await client.getConfig();
  const err = (await write().then(
    () => null,
    (e: unknown) => e,
  )) as ApplianceProblemError | null;
  expect(err, 'the write was accepted').not.toBeNull();
  expect(await client.getConfig()).toEqual(before);
  return err as ApplianceProblemError;
}
