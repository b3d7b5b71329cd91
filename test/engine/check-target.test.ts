// The request target both engines send for a stored check path (issue 19): a valid RFC 3986
// path goes as it is; anything else, which only a revision stored before the contract
// tightened can hold, goes percent-encoded as UTF-8 rather than throwing in the probe.
import { describe, expect, it } from 'vitest';
import { checkTarget } from '../../appliance/config/check-target.js';
import { configWord } from '../../appliance/engine/haproxy/config-render.js';

describe('check request target', () => {
  it('keeps a valid path and query byte for byte', () => {
    for (const p of ['/', "/it's/$HOME/%C7%85?a=(1)&b=*+,;=:@~", '/a/b/%2f?x=y/z?w']) expect(checkTarget(p)).toBe(p);
  });

  it('percent-encodes everything else as UTF-8', () => {
    expect(checkTarget('/ǅ')).toBe('/%C7%85');
    expect(checkTarget('/😀')).toBe('/%F0%9F%98%80');
    expect(checkTarget('/é\u0085')).toBe('/%C3%A9%C2%85');
    expect(checkTarget('/a b#c"d\\e{f}')).toBe('/a%20b%23c%22d%5Ce%7Bf%7D');
    expect(checkTarget('/50%/%zz/%4')).toBe('/50%25/%25zz/%254');
    expect(checkTarget('/\ud800x')).toBe('/%EF%BF%BDx');
    expect(checkTarget('health')).toBe('/health');
  });

  it('writes a value as one HAProxy configuration word', () => {
    expect(configWord("a#b'c\"d\\e f$HOME")).toBe("a\\#b\\'c\\\"d\\\\e\\ f$HOME");
    expect(configWord('a\u0001\u007f')).toBe('a\\x01\\x7f');
  });
});
