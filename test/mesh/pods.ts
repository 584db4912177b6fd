/**
 * Pods for the mesh tests: a network namespace per pod, a veth pair between two of them,
 * and the nat rules istio-iptables writes in REDIRECT mode with the injector's defaults
 * (spec/istio-sidecar.md §3.1). Everything is created by the test and removed in after().
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import readline from 'node:readline';

export const PROXY_UID = 1337;
/** The app's uid: anything but 1337, which istio-iptables leaves alone. */
export const APP_UID = 1000;

/** Why the mesh tests cannot run here, or undefined when they can. */
export function meshUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'the mesh tests need root (network namespaces, veth, iptables); run `npm run test:mesh` as root';
  for (const tool of ['/usr/sbin/ip', '/usr/sbin/iptables', '/usr/bin/setpriv']) {
    if (!existsSync(tool)) return `the mesh tests need ${tool} (apt-get install -y iproute2 iptables util-linux)`;
  }
  return undefined;
}

export function sh(args: string[]): string {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * The nat rules of istio-iptables -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -b '*' -d 15090,15021,15020;
 * with `tproxy`, inbound capture leaves the nat table (istioTproxyRules takes it).
 */
export function istioIptablesRules(tproxy = false): string[][] {
  const nat = (...a: string[]): string[] => ['-t', 'nat', ...a];
  const owner = (kind: '--uid-owner' | '--gid-owner'): string[][] => [
    nat('-A', 'ISTIO_OUTPUT', '-o', 'lo', '!', '-d', '127.0.0.1/32', '-p', 'tcp', '!', '--dport', '15008', '-m', 'owner', kind, `${PROXY_UID}`, '-j', 'ISTIO_IN_REDIRECT'),
    nat('-A', 'ISTIO_OUTPUT', '-o', 'lo', '-m', 'owner', '!', kind, `${PROXY_UID}`, '-j', 'RETURN'),
    nat('-A', 'ISTIO_OUTPUT', '-m', 'owner', kind, `${PROXY_UID}`, '-j', 'RETURN'),
  ];
  return [
    nat('-N', 'ISTIO_INBOUND'),
    nat('-N', 'ISTIO_REDIRECT'),
    nat('-N', 'ISTIO_IN_REDIRECT'),
    nat('-N', 'ISTIO_OUTPUT'),
    nat('-A', 'ISTIO_INBOUND', '-p', 'tcp', '--dport', '15008', '-j', 'RETURN'),
    nat('-A', 'ISTIO_REDIRECT', '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', '15001'),
    nat('-A', 'ISTIO_IN_REDIRECT', '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', '15006'),
    ...(tproxy ? [] : [nat('-A', 'PREROUTING', '-p', 'tcp', '-j', 'ISTIO_INBOUND')]),
    ...['15090', '15021', '15020'].map((p) => nat('-A', 'ISTIO_INBOUND', '-p', 'tcp', '--dport', p, '-j', 'RETURN')),
    nat('-A', 'ISTIO_INBOUND', '-p', 'tcp', '-j', 'ISTIO_IN_REDIRECT'),
    nat('-A', 'OUTPUT', '-j', 'ISTIO_OUTPUT'),
    nat('-A', 'ISTIO_OUTPUT', '-o', 'lo', '-s', '127.0.0.6/32', '-j', 'RETURN'),
    ...owner('--uid-owner'),
    ...owner('--gid-owner'),
    nat('-A', 'ISTIO_OUTPUT', '-d', '127.0.0.1/32', '-j', 'RETURN'),
    nat('-A', 'ISTIO_OUTPUT', '-j', 'ISTIO_REDIRECT'),
  ];
}

/**
 * Inbound capture in TPROXY mode (spec/istio-sidecar.md §3.2): the mangle table marks and
 * TPROXYs inbound TCP to 15006, and policy routing delivers the marked packets locally.
 */
export function istioTproxyRules(): { iptables: string[][]; ip: string[][] } {
  const m = (...a: string[]): string[] => ['-t', 'mangle', ...a];
  return {
    iptables: [
      m('-N', 'ISTIO_DIVERT'),
      m('-N', 'ISTIO_TPROXY'),
      m('-N', 'ISTIO_INBOUND'),
      m('-A', 'ISTIO_DIVERT', '-j', 'MARK', '--set-xmark', '0x539/0xffffffff'),
      m('-A', 'ISTIO_DIVERT', '-j', 'ACCEPT'),
      m('-A', 'ISTIO_TPROXY', '!', '-d', '127.0.0.1/32', '-p', 'tcp', '-j', 'TPROXY', '--on-port', '15006', '--on-ip', '0.0.0.0', '--tproxy-mark', '0x539/0xffffffff'),
      m('-A', 'PREROUTING', '-p', 'tcp', '-j', 'ISTIO_INBOUND'),
      m('-A', 'ISTIO_INBOUND', '-p', 'tcp', '-m', 'mark', '--mark', '0x539', '-j', 'RETURN'),
      m('-A', 'ISTIO_INBOUND', '-s', '127.0.0.6/32', '-i', 'lo', '-p', 'tcp', '-j', 'RETURN'),
      m('-A', 'ISTIO_INBOUND', '-i', 'lo', '-p', 'tcp', '-j', 'RETURN'),
      ...['15008', '15090', '15021', '15020'].map((p) => m('-A', 'ISTIO_INBOUND', '-p', 'tcp', '--dport', p, '-j', 'RETURN')),
      m('-A', 'ISTIO_INBOUND', '-p', 'tcp', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ISTIO_DIVERT'),
      m('-A', 'ISTIO_INBOUND', '-p', 'tcp', '-j', 'ISTIO_TPROXY'),
    ],
    ip: [
      ['ip', 'rule', 'add', 'fwmark', '1337', 'lookup', '133'],
      ['ip', '-f', 'inet', 'route', 'add', 'local', 'default', 'dev', 'lo', 'table', '133'],
    ],
  };
}

/** A process in a pod, with its output lines. */
export class PodProcess {
  readonly child: ChildProcess;
  readonly output: string[] = [];
  readonly #waiters: { re: RegExp; resolve: (line: string) => void }[] = [];

  constructor(child: ChildProcess) {
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      readline.createInterface({ input: stream }).on('line', (line) => {
        this.output.push(line);
        const i = this.#waiters.findIndex((w) => w.re.test(line));
        if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(line);
      });
    }
  }

  /** A line printed so far that matches, or the next one, within `ms`. */
  waitFor(re: RegExp, ms = 15_000): Promise<string> {
    const seen = this.output.find((l) => re.test(l));
    return seen !== undefined ? Promise.resolve(seen) : this.nextLine(re, ms);
  }

  /** The first line from now on that matches, within `ms`. */
  nextLine(re: RegExp, ms = 15_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${ms} ms; output:\n${this.output.slice(-30).join('\n')}`)), ms);
      this.#waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }
}

export class Pod {
  readonly ns: string;
  readonly ip: string;
  readonly #procs: PodProcess[] = [];

  constructor(ns: string, ip: string) {
    this.ns = ns;
    this.ip = ip;
  }

  exec(args: string[]): string {
    return sh(['ip', 'netns', 'exec', this.ns, ...args]);
  }

  /** Starts `node <args>` in the pod as `uid` and `gid` (default: the uid). Root keeps its capabilities (TPROXY's sidecar). */
  spawnNode(uid: number, args: string[], env: Record<string, string> = {}, gid = uid): PodProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns, 'setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', process.execPath, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    const p = new PodProcess(child);
    this.#procs.push(p);
    return p;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#procs.map((p) => p.stop()));
  }
}

/**
 * Two pods joined by a veth pair on `subnet`.1 and .2 (/24), each with the Istio rules and
 * a default route over the veth, so that a VIP that exists only in config is routed (and
 * then redirected by the nat OUTPUT chain).
 */
export function createPods(tag: string, subnet: string, serverMode: 'REDIRECT' | 'TPROXY' = 'REDIRECT'): { client: Pod; server: Pod; remove(): void } {
  const nsC = `mc-${tag}`;
  const nsS = `ms-${tag}`;
  const vC = `vc${tag}`.slice(0, 15);
  const vS = `vs${tag}`.slice(0, 15);
  const remove = (): void => {
    for (const ns of [nsC, nsS]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    spawnSync('ip', ['link', 'del', vC], { stdio: 'ignore' });
  };
  remove();
  sh(['ip', 'netns', 'add', nsC]);
  sh(['ip', 'netns', 'add', nsS]);
  sh(['ip', 'link', 'add', vC, 'netns', nsC, 'type', 'veth', 'peer', 'name', vS, 'netns', nsS]);
  const client = new Pod(nsC, `${subnet}.1`);
  const server = new Pod(nsS, `${subnet}.2`);
  for (const [pod, dev] of [[client, vC], [server, vS]] as const) {
    pod.exec(['ip', 'link', 'set', 'lo', 'up']);
    pod.exec(['ip', 'addr', 'add', `${pod.ip}/24`, 'dev', dev]);
    pod.exec(['ip', 'link', 'set', dev, 'up']);
    pod.exec(['ip', 'route', 'add', 'default', 'dev', dev]);
    const tproxy = pod === server && serverMode === 'TPROXY';
    for (const rule of istioIptablesRules(tproxy)) pod.exec(['iptables', ...rule]);
    if (tproxy) {
      const t = istioTproxyRules();
      for (const rule of t.iptables) pod.exec(['iptables', ...rule]);
      for (const cmd of t.ip) pod.exec(cmd);
    }
  }
  return { client, server, remove };
}
