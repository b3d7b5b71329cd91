// HAProxy's agent-check protocol, the appliance's reading of it: a feedback agent on a real
// server answers one line of words separated by commas or spaces. A percentage scales the
// server's configured weight, `drain` and `maint` take it out of balancing (maint also from
// its persistent clients), `ready` ends both, `down` marks it down until `up`. Words it
// does not know (`stopped`, `fail`, a reason after `#`) change nothing, as in HAProxy.

/** What one agent reply asks for; null fields ask nothing. */
export interface AgentVerdict {
  /** 0..100: the share of the configured weight. */
  percent: number | null;
  /** `ready` ends drain and maint. */
  state: 'ready' | 'drain' | 'maint' | null;
  /** `down` / `up`. */
  health: 'up' | 'down' | null;
}

/** Reads one reply line. */
export function parseAgentReply(line: string): AgentVerdict {
  const verdict: AgentVerdict = { percent: null, state: null, health: null };
  const words = (line.split('#')[0] ?? '').trim().toLowerCase().split(/[\s,]+/).filter(Boolean);
  for (const word of words) {
    const pct = /^(\d{1,3})%$/.exec(word);
    if (pct) verdict.percent = Math.min(100, Number(pct[1]));
    else if (word === 'ready' || word === 'drain' || word === 'maint') verdict.state = word;
    else if (word === 'up' || word === 'down') verdict.health = word;
  }
  return verdict;
}

/** The weight new clients are balanced with, given the configured weight and the agent's state. */
export function effectiveWeight(weight: number, agent: { percent: number | null; state: AgentVerdict['state'] }): number {
  if (agent.state === 'drain' || agent.state === 'maint') return 0;
  if (agent.percent === null) return weight;
  // As HAProxy computes it (integer division of the configured weight), so both engines agree.
  return Math.floor((weight * agent.percent) / 100);
}
