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
