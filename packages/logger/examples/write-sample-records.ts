/**
 * Writes a few records the way the service does, into LOG_DIR (default ./logs), and prints where.
 *   node dist/examples/write-sample-records.js
 */
import { createLogging } from '../src/index.js';

const logging = await createLogging({ base: { instance_id: 'example' } });
const log = logging.logger.child({ module: 'analysis', request_id: 'req-example' });
log.info({ event: 'analysis.start', file_name: 'take-01.wav', file_size_mb: 5.3 }, 'analysis started');
log.warn({ event: 'memory.pressure', rss_mb: 1180.5, limit_pct: 76.8 }, 'memory above 70 % of the limit');
log.error({ event: 'analysis.failed', error: new Error('decode failed', { cause: new Error('truncated WAV') }) });
log.info({ event: 'login', password: 'never written', note: 'card 4111 1111 1111 1111' }, 'redaction at work');
process.stdout.write(`wrote 4 records to ${logging.currentFile() ?? '(no file yet)'}\n`);
await logging.close();
