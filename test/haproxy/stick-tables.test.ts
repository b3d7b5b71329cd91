// The parsers behind carrying source-IP persistence over a reload, on answers captured from
// Debian's HAProxy 2.6.12 (`show table`, `show table <name>`, `show servers state <backend>`).
import { describe, expect, it } from 'vitest';
import { parseServerIds, parseTable, parseTableNames } from '../../appliance/engine/haproxy/stick-tables.js';

describe('stick-table answers', () => {
  it('names every table', () => {
    const text = '# table: be_vs-dc0ee87d3568, type: ipv6, size:1048576, used:7\n# table: be_vs-0123456789ab, type: ipv6, size:1048576, used:0\n\n';
    expect(parseTableNames(text)).toEqual(['be_vs-dc0ee87d3568', 'be_vs-0123456789ab']);
  });

  it('reads keys with their server id and name and the time to expiry, and entries pushed by a peer without a name', () => {
    const text = [
      '# table: be_vs-dc0ee87d3568, type: ipv6, size:1048576, used:3',
      '0x5584517d07a0: key=::ffff:127.0.102.91 use=0 exp=1799995 server_id=2 server_key=rs-3306fa3cd988',
      '0x7f2028046740: key=::ffff:127.0.77.31 use=0 exp=1799817 server_id=1 server_key=-',
      '0x7f2028046741: key=::ffff:127.0.77.32 use=0 exp=1799817 server_id=3',
      '',
    ].join('\n');
    expect(parseTable(text)).toEqual([
      { key: '::ffff:127.0.102.91', serverId: 2, serverKey: 'rs-3306fa3cd988', expMs: 1799995 },
      { key: '::ffff:127.0.77.31', serverId: 1, serverKey: null, expMs: 1799817 },
      { key: '::ffff:127.0.77.32', serverId: 3, serverKey: null, expMs: 1799817 },
    ]);
    expect(parseTable('No such table\n')).toEqual([]);
  });

  it('maps server names to ids from the servers state', () => {
    const text = [
      '1',
      '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight',
      '3 be_vs-401c8db7ce78 1 rs-eda5638d4258 127.0.101.91 2 0 100 100 1 6 3 4 6 0 0 0 - 8080 - 0 0 - - 0',
      '3 be_vs-401c8db7ce78 2 rs-7399da62a888 127.0.101.92 2 0 100 100 1 1 0 2 6 0 0 0 - 8080 - 0 0 - - 0',
      '',
    ].join('\n');
    expect([...parseServerIds(text)]).toEqual([
      ['rs-eda5638d4258', 1],
      ['rs-7399da62a888', 2],
    ]);
  });
});
