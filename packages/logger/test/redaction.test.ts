import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogging, createRedactor, passesLuhn, REDACTED } from '../src/index.js';
import { readLines, readRecords, tempDir, testSettings } from './helpers.js';

async function logAndRead(
  write: (log: Awaited<ReturnType<typeof createLogging>>['logger']) => void,
  options: Parameters<typeof createLogging>[0] = {},
): Promise<{ records: Array<Record<string, unknown>>; raw: string }> {
  const dir = tempDir();
  const logging = await createLogging({ settings: testSettings(dir), stdout: 'off', ...options });
  write(logging.logger);
  await logging.close();
  return { records: readRecords(dir), raw: readLines(dir).join('\n') };
}

test('sensitive keys are redacted at any depth, in objects and arrays, whatever their case and separators', async () => {
  const { records, raw } = await logAndRead((log) =>
    log.info(
      {
        password: 'hunter2',
        user: { name: 'ann', credentials: { token: 'tok-123456' }, api_key: 'ak-1', apiKey: 'ak-2' },
        headers: [{ Authorization: 'Basic dXNlcjpwYXNz' }, { cookie: 'sid=abcdef' }, { 'X-Api-Key': 'xyz' }],
        deep: { a: { b: { c: { db_password: 'pg-secret', client_secret: 'cs', keep: 'visible' } } } },
      },
      'login',
    ),
  );
  const r = records[0] as Record<string, any>;
  assert.equal(r.password, REDACTED);
  assert.equal(r.user.name, 'ann');
  assert.equal(r.user.credentials, REDACTED);
  assert.equal(r.user.api_key, REDACTED);
  assert.equal(r.user.apiKey, REDACTED);
  assert.equal(r.headers[0].Authorization, REDACTED);
  assert.equal(r.headers[1].cookie, REDACTED);
  assert.equal(r.headers[2]['X-Api-Key'], REDACTED);
  assert.equal(r.deep.a.b.c.db_password, REDACTED);
  assert.equal(r.deep.a.b.c.client_secret, REDACTED);
  assert.equal(r.deep.a.b.c.keep, 'visible');
  for (const secret of ['hunter2', 'tok-123456', 'ak-1', 'ak-2', 'dXNlcjpwYXNz', 'abcdef', 'xyz"', 'pg-secret']) {
    assert.ok(!raw.includes(secret), `${secret} reached the disk`);
  }
});

test('card numbers that pass the Luhn check are redacted inside strings; other digit runs are kept', async () => {
  const { records } = await logAndRead((log) =>
    log.info(
      {
        note: 'paid with 4111 1111 1111 1111 yesterday',
        dashed: 'card 5500-0000-0000-0004 ok',
        plain: '378282246310005',
        notACard: 'order 4111111111111112 and phone 0123456789',
        list: ['x', 'my card is 6011111111111117'],
      },
      'payment for 4012888888881881 received',
    ),
  );
  const r = records[0] as Record<string, any>;
  assert.equal(r.note, 'paid with [REDACTED:card] yesterday');
  assert.equal(r.dashed, 'card [REDACTED:card] ok');
  assert.equal(r.plain, '[REDACTED:card]');
  assert.equal(r.notACard, 'order 4111111111111112 and phone 0123456789');
  assert.equal(r.list[1], 'my card is [REDACTED:card]');
  assert.equal(r.message, 'payment for [REDACTED:card] received');
});

test('bearer tokens, JWTs and key=value secrets are redacted inside messages, URLs and error messages', async () => {
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
  const { records, raw } = await logAndRead((log) => {
    log.warn({ header: 'Bearer abc.def-ghi_jkl' }, 'got Authorization: Bearer sk_live_0123456789');
    log.info({ url: '/api/analyze?token=s3cr3tvalue&x=1', embedded: '{"password":"pw-in-json"}' }, 'jwt %s', jwt);
    log.error(new Error('upstream refused api_key=AKIA0000SECRET with password: open-sesame'));
  });
  assert.equal(records[0]?.header, `Bearer ${REDACTED}`);
  assert.match(String(records[0]?.message), /Bearer \[REDACTED\]/);
  assert.equal(records[1]?.url, `/api/analyze?token=${REDACTED}&x=1`);
  assert.equal(records[1]?.message, `jwt ${REDACTED}`);
  const err = records[2]?.error as { message: string; stack?: string };
  assert.ok(err.message.includes(`api_key=${REDACTED}`), err.message);
  assert.ok(err.message.includes(`password: ${REDACTED}`), err.message);
  assert.ok(err.stack?.includes(`api_key=${REDACTED}`));
  for (const secret of ['abc.def-ghi_jkl', 'sk_live_0123456789', 's3cr3tvalue', 'pw-in-json', jwt, 'AKIA0000SECRET', 'open-sesame']) {
    assert.ok(!raw.includes(secret), `${secret} reached the disk`);
  }
});

test('secrets inside error cause chains and extra error fields are redacted', async () => {
  const inner = Object.assign(new Error('db login failed for password=pw1'), { token: 'inner-token', code: 'EAUTH' });
  const { raw, records } = await logAndRead((log) => log.error({ error: new Error('request failed', { cause: inner }) }, 'failed'));
  const err = records[0]?.error as Record<string, any>;
  assert.equal(err.cause.code, 'EAUTH');
  assert.equal(err.cause.token, REDACTED);
  assert.ok(!raw.includes('pw1') && !raw.includes('inner-token'));
});

test('child bindings are redacted too', async () => {
  const { records } = await logAndRead((log) => log.child({ module: 'auth', session_token: 'abc' }).info('x'));
  assert.equal(records[0]?.session_token, REDACTED);
  assert.equal(records[0]?.module, 'auth');
});

test('the key list and value patterns are configurable', async () => {
  const { records } = await logAndRead(
    (log) => log.info({ fingerprint: 'fp-1', password: 'still', note: 'guitar serial GX-9931-QQ' }, 'serial GX-1234-AB'),
    { redaction: { extraKeys: ['fingerprint'], patterns: [/GX-\d{4}-[A-Z]{2}/] } },
  );
  assert.equal(records[0]?.fingerprint, REDACTED);
  assert.equal(records[0]?.password, REDACTED);
  assert.equal(records[0]?.note, `guitar serial ${REDACTED}`);
  assert.equal(records[0]?.message, `serial ${REDACTED}`);

  const { records: replaced } = await logAndRead((log) => log.info({ password: 'shown', pin: '1234' }, 'm'), {
    redaction: { keys: ['pin'] },
  });
  assert.equal(replaced[0]?.password, 'shown');
  assert.equal(replaced[0]?.pin, REDACTED);
});

test('Luhn check', () => {
  assert.ok(passesLuhn('4111111111111111'));
  assert.ok(passesLuhn('4111 1111 1111 1111'));
  assert.ok(!passesLuhn('4111111111111112'));
  const r = createRedactor({ cardNumbers: false });
  assert.equal(r.scrub('4111111111111111'), '4111111111111111');
});

/** Every way a URL reaches a record: a field, a URL object, a URLSearchParams, the message, an error message, a Map key. */
async function logUrlEverywhere(url: string): Promise<string> {
  const { raw } = await logAndRead((log) => {
    log.info({ url }, 'plain field');
    log.info({ link: new URL(url) }, 'URL object');
    log.info({ nested: { list: [url] } }, `message with ${url} inside`);
    log.info('printf %s', url);
    log.error(new Error(`fetch ${url} failed`));
    log.info({ seen: new Map([[url, 1]]) }, 'map key');
  });
  return raw;
}

test('sensitive query and fragment pairs of URLs with a scheme are redacted wherever they stand, in every place a URL is logged', async () => {
  const cases: Array<{ url: string; secret: string }> = [
    { url: 'https://example.test/cb?password=hunter2&x=1', secret: 'hunter2' },
    { url: 'http://example.test:8080/cb?token=tok-first-123', secret: 'tok-first-123' },
    { url: 'https://example.test/cb?x=1&api_key=ak-middle-9&y=2', secret: 'ak-middle-9' },
    { url: 'https://example.test/?secret=s3-last', secret: 's3-last' },
    { url: 'https://example.test/cb#access_token=frag-token-77&token_type=bearer', secret: 'frag-token-77' },
    { url: 'https://example.test/cb?state=1#id_token=frag-id-88', secret: 'frag-id-88' },
    { url: 'https://example.test/cb?pass%77ord=enc-key-55&x=1', secret: 'enc-key-55' },
    { url: 'https://example.test/cb?user%5Bpassword%5D=brk-66', secret: 'brk-66' },
    { url: 'https://example.test/cb?user[password]=brk-67&x=1', secret: 'brk-67' },
    { url: 'https://example.test/login?next=https%3A%2F%2Fother.test%2F%3Fclient_secret%3Dnested-99%26x%3D1', secret: 'nested-99' },
    { url: 'https://example.test/login?next=/cb?refresh_token=rt-inner-44', secret: 'rt-inner-44' },
    { url: 'wss://example.test/socket?Access-Token=ws-tok-31', secret: 'ws-tok-31' },
    { url: 'https://bucket.test/obj?X-Amz-Signature=abcdef0123456789&X-Amz-Expires=60', secret: 'abcdef0123456789' },
    { url: 'https://acct.blob.test/c/b?sv=2022-11-02&sig=sas%2Bsig%3D42&se=2026', secret: 'sas%2Bsig' },
    { url: 'https://example.test/hook?auth=hook-auth-12&x=1', secret: 'hook-auth-12' },
    { url: 'HTTPS://EXAMPLE.TEST/CB?PASSWORD=upper-77&X=1', secret: 'upper-77' },
    { url: 'https://example.test/cb?2fa_token=digit-key-13', secret: 'digit-key-13' },
    { url: 'https://example.test/a;jsessionid=semi-42?x=1', secret: 'semi-42' },
  ];
  for (const { url, secret } of cases) {
    const raw = await logUrlEverywhere(url);
    assert.ok(!raw.includes(secret), `${secret} from ${url} reached the disk:\n${raw}`);
    assert.ok(/example\.test|bucket\.test|blob\.test/i.test(raw), 'the rest of the URL is kept');
  }
  const { records } = await logAndRead((log) => log.info({ url: 'https://example.test/cb?password=hunter2&x=1' }, 'm'));
  assert.equal(records[0]?.url, `https://example.test/cb?password=${REDACTED}&x=1`);
});

test('credentials in a URL (user:password@host, or a lone token as the user) are redacted for any scheme', async () => {
  const cases: Array<{ url: string; secret: string; kept: string }> = [
    { url: 'postgres://app:hunter2@db', secret: 'hunter2', kept: 'postgres://app:' },
    { url: 'mysql://root:pw-mysql-1@127.0.0.1:3306/shop', secret: 'pw-mysql-1', kept: '127.0.0.1:3306/shop' },
    { url: 'redis://:only-pass-2@cache:6379', secret: 'only-pass-2', kept: 'cache:6379' },
    { url: 'amqp://guest:p@ss@w0rd-3@mq/vhost', secret: 'w0rd-3', kept: 'mq/vhost' },
    { url: 'https://ghp_lonetoken4444@github.test/org/repo.git', secret: 'ghp_lonetoken4444', kept: 'github.test/org/repo.git' },
    { url: 'mongodb+srv://svc:mongo-pw-5@cluster0.test/db?retryWrites=true', secret: 'mongo-pw-5', kept: 'cluster0.test/db' },
  ];
  for (const { url, secret, kept } of cases) {
    const raw = await logUrlEverywhere(url);
    assert.ok(!raw.includes(secret), `${secret} from ${url} reached the disk:\n${raw}`);
    assert.ok(raw.includes(kept), `${kept} was kept`);
  }
  const { records } = await logAndRead((log) => log.info({ db: 'postgres://app:hunter2@db' }, 'connecting to postgres://app:hunter2@db'));
  assert.equal(records[0]?.db, `postgres://app:${REDACTED}@db`);
  assert.equal(records[0]?.message, `connecting to postgres://app:${REDACTED}@db`);
});

test('card numbers given as numbers or BigInts are redacted; other large numbers are kept', async () => {
  const cards = ['4111111111111111', '5500000000000004', '378282246310005', '6011111111111117', '30569309025904', '3530111333300000'];
  const { records, raw } = await logAndRead((log) => {
    for (const card of cards) log.info({ card: Number(card), asBig: BigInt(card), inList: [Number(card)], deep: { n: BigInt(card) } }, 'card');
    log.info({ nineteen: 6011000990139424124n, unsafe: Number('6011000990139424124') }, 'long cards');
    log.info({ epoch_ms: 1764680000000, epoch_us: 1764680000000000, ns: 1764680000000000000n, count: 4111111111111112, big: 12345678901234567890n }, 'not cards');
  });
  for (const r of records.slice(0, cards.length)) {
    assert.equal(r.card, '[REDACTED:card]');
    assert.equal(r.asBig, '[REDACTED:card]');
    assert.deepEqual(r.inList, ['[REDACTED:card]']);
    assert.deepEqual(r.deep, { n: '[REDACTED:card]' });
  }
  for (const card of cards) assert.ok(!raw.includes(card), `${card} reached the disk`);
  assert.equal(records[cards.length]?.nineteen, '[REDACTED:card]');
  assert.equal(records[cards.length]?.unsafe, '[REDACTED:card]');
  assert.ok(!raw.includes('601100099013942'), 'no digits of the long card');
  const kept = records[cards.length + 1] as Record<string, unknown>;
  assert.equal(kept.epoch_ms, 1764680000000);
  assert.equal(kept.epoch_us, 1764680000000000);
  assert.equal(kept.ns, '1764680000000000000');
  assert.equal(kept.count, 4111111111111112);
  assert.equal(kept.big, '12345678901234567890');
});

test('a long string cut where a card number or a secret stands leaves no recognisable part of it, wherever the cut falls', async () => {
  const max = 4096;
  const shapes = ['4111111111111111', '4111 1111 1111 1111', '5500-0000-0000-0004', '378282246310005'];
  const lines: string[] = [];
  const { raw, records } = await logAndRead((log) => {
    for (const card of shapes) {
      for (let inside = 1; inside < card.length; inside++) {
        const value = `${'a'.repeat(max - inside)}${card} and more text after it`;
        log.info({ value }, 'cut');
        lines.push(card);
      }
    }
    log.info({ value: `${'b'.repeat(max - 10)}password=hunter2-cut-secret and more` }, 'cut pair');
  });
  assert.equal(records.length, lines.length + 1);
  for (const r of records) {
    const value = String(r.value);
    assert.match(value, /…\[truncated \d+ chars\]$/, 'still cut');
    const kept = value.replace(/…\[truncated \d+ chars\]$/, '');
    assert.ok(kept.length <= max, `${kept.length} characters kept`);
    assert.ok(!/\d(?:[ -]?\d){7,}/.test(kept), `a run of card digits survived the cut: …${kept.slice(-40)}`);
  }
  assert.ok(!raw.includes('hunter2'));
});

test('secrets in the keys of an object are redacted too', async () => {
  const { raw } = await logAndRead((log) => log.info({ byCard: { '4111111111111111': 3 }, byUrl: { 'https://x.test/?token=key-tok-1': true } }, 'keys'));
  assert.ok(!raw.includes('4111111111111111') && !raw.includes('key-tok-1'), raw);
});

test('a UUID whose digit groups happen to pass the Luhn check is no card number: it is kept', async () => {
  const r = createRedactor();
  // A UUID ending in a run of 15 digits (across its last hyphen) that passes the Luhn check.
  let uuid = '';
  for (let n = 100_000_000_000; !uuid; n++) {
    const candidate = `c9775d2e-6719-49ee-a123-${String(n).padStart(12, '0')}`;
    if (passesLuhn(`123${String(n).padStart(12, '0')}`)) uuid = candidate;
  }
  const digits = uuid.slice(20);
  assert.equal(r.scrub(`paid with ${digits}`), 'paid with [REDACTED:card]', 'the same digits alone are redacted');
  assert.equal(r.scrub(`instance ${uuid} started`), `instance ${uuid} started`);
  assert.equal(r.scrub(uuid), uuid);
  assert.equal(r.scrub(`card 4111111111111111 for ${uuid}`), `card [REDACTED:card] for ${uuid}`);
});
