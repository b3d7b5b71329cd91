// The scale benchmark's markdown report: this run, and the "before" run beside it when one
// is kept (results-scale-before.json).
import type { EngineRow } from './engine-scale.js';
import type { SdkResult } from './sdk-scale.js';
import type { TerraformRow } from './scale-bench.js';

/** What a run writes to results-scale.json. */
export interface ScaleReport {
  date: string;
  label: string | null;
  quick: boolean;
  machine: { cpus: number; model?: string; node: string };
  command: string;
  terraform: TerraformRow[];
  sdk: SdkResult | null;
  engines: EngineRow[];
}

const STEPS = [
  ['apply', 'apply (create)'],
  ['noopPlan', 'no-op plan (refresh)'],
  ['changePlan', 'one-change plan'],
  ['changeApply', 'one-change apply'],
  ['destroy', 'destroy'],
] as const;

function terraformTable(rows: TerraformRow[], before: TerraformRow[] | null): string {
  const head = before
    ? '| resources | step | before: lbappliance s | before: floor s | before: ratio | after: lbappliance s | after: floor s | after: ratio | after: protocol-only plugin s (ratio) |\n|---|---|---|---|---|---|---|---|---|'
    : '| resources | step | lbappliance s | terraform_data floor s | ratio | protocol-only plugin s (ratio) |\n|---|---|---|---|---|---|';
  const lines: string[] = [head];
  for (const row of rows) {
    const old = before?.find((b) => b.resources === row.resources);
    for (const [key, name] of STEPS) {
      const s = row.steps[key];
      const o = old?.steps[key];
      const stand = s.nullPlugin === undefined ? '-' : `${s.nullPlugin} (${s.nullRatio}x)`;
      lines.push(
        before
          ? `| ${row.resources} | ${name} | ${o?.lbappliance ?? '-'} | ${o?.floor ?? '-'} | ${o ? `${o.ratio}x` : '-'} | ${s.lbappliance} | ${s.floor} | ${s.ratio}x | ${stand} |`
          : `| ${row.resources} | ${name} | ${s.lbappliance} | ${s.floor} | ${s.ratio}x | ${stand} |`,
      );
    }
  }
  return lines.join('\n');
}

function sdkRow(s: SdkResult): string {
  return `| ${s.objects} | ${s.clients} | ${s.seconds} | ${s.writesPerSecond} | ${s.p50Ms} | ${s.p99Ms} | ${s.maxMs} | ${s.failures} |`;
}

function engineTable(rows: EngineRow[], before: EngineRow[] | null): string {
  const lines = ['| engine | VIPs | run | restore all, ms | its apply, ms | one-change write, ms | one-change apply, ms (median) | one-change apply, ms (fastest) | metrics scrape, ms | idle appliance process, % of a core | load |', '|---|---|---|---|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const o = before?.find((b) => b.engine === r.engine && b.vips === r.vips);
    if (o) lines.push(`| ${o.engine} | ${o.vips} | before | ${o.restoreMs} | ${o.restoreApplyMs} | ${o.oneChangeWriteMs} | ${o.oneChangeApplyMs} | ${o.oneChangeApplyMinMs ?? ''} | ${o.scrapeMs ?? ''} | ${o.idleCpuPercent ?? ''} | ${o.load ?? ''} |`);
    lines.push(`| ${r.engine} | ${r.vips} | ${before ? 'after' : 'this run'} | ${r.restoreMs} | ${r.restoreApplyMs} | ${r.oneChangeWriteMs} | ${r.oneChangeApplyMs} | ${r.oneChangeApplyMinMs ?? ''} | ${r.scrapeMs ?? ''} | ${r.idleCpuPercent ?? ''} | ${r.load ?? ''} |`);
  }
  return lines.join('\n');
}

/** Free text appended to the report (what bounds a step, measured with --cpu-prof): SCALE_NOTES names a markdown file. */
export type Notes = string;

/** The report as markdown. */
export function renderMarkdown(report: ScaleReport, before: ScaleReport | null, notes: Notes = ''): string {
  const parts = [
    `# Scale benchmark (${report.date})`,
    `${report.machine.cpus} CPUs, ${report.machine.model ?? ''}, node ${report.machine.node}. Command: \`${report.command}\`.${before ? ` "before" is the run of ${before.date} (results-scale-before.json${before.label ? `, ${before.label}` : ''}).` : ''}`,
    '## Terraform',
    'A configuration written from the docs: one VIP per four resources, each with three real servers (`for_each`), against the same graph of Terraform\'s built-in `terraform_data` in the same run (the floor, Terraform\'s own cost). Default parallelism (10); embedded engine. Targets at 400 and 1000 resources: apply, no-op plan and destroy within 1.5x of the floor. The last column runs the same lbappliance configuration through a stand-in plugin that does only the plugin protocol (`test/bench/scale/null-provider.ts`: the provider\'s plugin server, schema and msgpack values, resources kept in the state alone): what any provider plugin on Node.js costs Terraform over its built-in resource.',
    terraformTable(report.terraform, before?.terraform ?? null),
    '## SDK: parallel clients',
    '| objects | clients | seconds | writes/s | p50 ms | p99 ms | max ms | failures |\n|---|---|---|---|---|---|---|---|',
  ];
  const sdk = [before?.sdk ? sdkRow(before.sdk).replace(/^\| /, '| (before) ') : null, report.sdk ? sdkRow(report.sdk) : null].filter((x) => x !== null);
  parts[parts.length - 1] += `\n${sdk.join('\n')}`;
  parts.push(
    '## Engines: apply time against VIP count',
    'A configuration of N VIPs (one real server each) restored in one write, then writes that change one real server\'s weight, one after the other (40 writes: the median, and the fastest, which carries the least of other jobs\' time on a shared machine): the write as the client sees it, and the engine\'s apply (the appliance\'s `revision applied` log line). Then a metrics scrape (`GET /metrics`, median of 5), timed on its own.',
    engineTable(report.engines, before?.engines ?? null),
  );
  if (notes) parts.push(notes.trim());
  return `${parts.join('\n\n')}\n`;
}
