/**
 * One Meltemi process for the shared-limit test: started with `fork`, bootstrap in the
 * MELTEMI_CHILD_BOOTSTRAP environment variable; answers 'stats' and 'close' messages.
 */
import { startMeltemi } from '../../../proxy/index.js';
import { closeRlsChannels } from '../../../filters/ratelimit/index.js';

interface Command {
  type: 'stats' | 'close';
}

const server = await startMeltemi(JSON.parse(process.env['MELTEMI_CHILD_BOOTSTRAP'] ?? '{}'));
process.send?.({ type: 'ready', port: server.listenerPort('main') });
process.on('message', (m: Command) => {
  if (m.type === 'stats') {
    const snap = server.statsSnapshot();
    process.send?.({ type: 'stats', counters: snap.counters, gauges: snap.gauges });
  } else if (m.type === 'close') {
    closeRlsChannels();
    void server.close().then(() => process.exit(0));
  }
});
