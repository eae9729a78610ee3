// Imported first by every entry point, before anything allocates under load.
//
// V8's allocation-site pretenuring watches how many objects of each allocation site survive a scavenge;
// under steady load it soon decides that per-request sites (request state, router closures) are
// long-lived and allocates their objects straight in the old generation. Everything a request
// allocates afterwards and hangs on them then survives scavenges too, held by old objects that are
// already garbage, until the next full GC. Measured on the gateway at 500 req/s (docs/performance.md):
// ~3 s into the load each scavenge starts promoting ~1.4 MB instead of ~0.4 MB and pauses 6-8 ms
// instead of 2-4 ms; with pretenuring off it stays at the lower figures. Scavenges of a request-serving
// process copy what is really alive, which is little.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-allocation-site-pretenuring');
