// Issues of the resource layer as tfplugin6 diagnostics, with an attribute path so that
// terraform underlines the attribute in the configuration.
import type { Issue, PathStep } from '../resources/types.js';

/** A tfplugin6 Diagnostic, as protobufjs takes it. */
export interface DiagnosticMessage {
  severity: 'ERROR' | 'WARNING';
  summary: string;
  detail: string;
  attribute?: { steps: ({ attribute_name: string } | { element_key_int: number } | { element_key_string: string })[] };
}

/**
 * The attribute path message of a path. A path into an object attribute
 * (`persistence.mode`) stops at the attribute (`persistence`): Terraform core reads a name
 * after a name as a nested *block* and, finding `persistence = { ... }` written as an
 * attribute, would underline the whole resource instead. The summary still names the
 * nested field, and the underlined expression contains it.
 */
export function attributePath(path: readonly PathStep[]): { steps: ({ attribute_name: string } | { element_key_int: number })[] } {
  const cut = path.findIndex((s, i) => i > 0 && typeof s === 'string' && typeof path[i - 1] === 'string');
  const kept = cut < 0 ? path : path.slice(0, cut);
  return { steps: kept.map((s) => (typeof s === 'number' ? { element_key_int: s } : { attribute_name: s })) };
}

/** An issue as a diagnostic. */
export function diagnostic(issue: Issue): DiagnosticMessage {
  const d: DiagnosticMessage = { severity: issue.severity === 'warning' ? 'WARNING' : 'ERROR', summary: issue.summary, detail: issue.detail };
  if (issue.path.length > 0) d.attribute = attributePath(issue.path);
  return d;
}

/** Several issues as diagnostics. */
export function diagnostics(issues: readonly Issue[]): DiagnosticMessage[] {
  return issues.map(diagnostic);
}

/** Whether any issue is an error. */
export function hasErrors(issues: readonly Issue[]): boolean {
  return issues.some((i) => i.severity !== 'warning');
}
