// Which per-IP bucket a client address counts against. One IPv6 subscriber usually gets a whole /64
// and can pick any address in it, so IPv6 addresses are grouped by their /64; an IPv4-mapped IPv6
// address (::ffff:192.0.2.1, what a dual-stack socket reports for IPv4 clients) is its IPv4 address.
import { isIPv4, isIPv6 } from 'node:net';

/** The address's bucket name ('' for an empty or unparsable address: not lumped into one bucket). */
export function ipGroup(address: string): string {
  if (isIPv4(address)) return address;
  const zone = address.indexOf('%');
  const ip = zone >= 0 ? address.slice(0, zone) : address;
  if (!isIPv6(ip)) return '';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  const hextets = expand(ip);
  return `${hextets.slice(0, 4).join(':')}::/64`;
}

/** The eight hextets of an IPv6 address, lower case without leading zeros (an embedded IPv4 tail converted). */
function expand(ip: string): string[] {
  let s = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((x) => parseInt(x, 16).toString(16));
}
