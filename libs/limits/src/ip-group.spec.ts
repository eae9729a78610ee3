import { ipGroup } from './ip-group';

describe('ipGroup (per-IP net buckets)', () => {
  it('keeps an IPv4 address as it is', () => {
    expect(ipGroup('192.0.2.1')).toBe('192.0.2.1');
    expect(ipGroup('10.0.0.255')).toBe('10.0.0.255');
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(ipGroup('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(ipGroup('::FFFF:198.51.100.7')).toBe('198.51.100.7');
  });

  it('groups IPv6 addresses by their /64, whatever their spelling', () => {
    const g = '2001:db8:0:1::/64';
    expect(ipGroup('2001:db8:0:1::1')).toBe(g);
    expect(ipGroup('2001:0db8:0000:0001:ffff:ffff:ffff:fffe')).toBe(g);
    expect(ipGroup('2001:DB8:0:1:a:b:c:d')).toBe(g);
    expect(ipGroup('2001:db8:0:1::1%eth0')).toBe(g);
    expect(ipGroup('2001:db8:0:2::1')).toBe('2001:db8:0:2::/64');
    expect(ipGroup('::1')).toBe('0:0:0:0::/64');
    expect(ipGroup('fe80::1:2:3:4')).toBe('fe80:0:0:0::/64');
    expect(ipGroup('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });

  it('gives no bucket to what is not an address', () => {
    expect(ipGroup('')).toBe('');
    expect(ipGroup('not-an-ip')).toBe('');
    expect(ipGroup('1.2.3')).toBe('');
  });
});
